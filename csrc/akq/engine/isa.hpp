// The x86 intrinsics of the SIMD kernels, and which families a translation unit can build
// (AKQ_ISA_AVX2, AKQ_ISA_AVX_VNNI, AKQ_ISA_AVX512, AKQ_ISA_AVX512_VNNI), from the compiler's target
// flags. An emulation build (CMake option AKQ_EMULATE_SIMD, scripts/emulate.sh) compiles the families
// above AVX2 with AVX2 flags and SIMDe's portable versions of their intrinsics instead, so that their
// kernels run, slowly but with the same results, on a CPU without them: a test build, never a release.
#pragma once

#if defined(AKQ_EMULATE_SIMD)
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
// SIMDe 0.7.4 (Debian 12) gives this alias a masked form's four arguments.
#undef _mm512_madd_epi16
#define _mm512_madd_epi16 simde_mm512_madd_epi16
// AVX-VNNI's 256-bit products are AVX-512 VNNI's (VL) under another name.
#define _mm256_dpbusd_avx_epi32 simde_mm256_dpbusd_epi32
#define _mm256_dpwssd_avx_epi32 simde_mm256_dpwssd_epi32
#define AKQ_ISA_AVX_VNNI 1
#define AKQ_ISA_AVX512 1
#define AKQ_ISA_AVX512_VNNI 1
#else
#include <immintrin.h>
#if defined(__AVXVNNI__)
#define AKQ_ISA_AVX_VNNI 1
#endif
#if defined(__AVX512BW__) && defined(__AVX512VL__)
#define AKQ_ISA_AVX512 1
#endif
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
#define AKQ_ISA_AVX512_VNNI 1
#endif
#endif

#if defined(__AVX2__)
#define AKQ_ISA_AVX2 1
#endif
