// The instruction-set families chosen at run time, one scheme for the engine kernels and the
// quantize loops: what the CPU and the OS offer (cpuid + xgetbv), and the family in use (the best,
// unless AKQ_SIMD or set_simd_level() asks for another; tests force every family this way).
#pragma once
#include <string>
#include <vector>

namespace akq {

// In order of preference: a later family is faster where the CPU has it.
enum class SimdLevel {
    Scalar = 0,
    Avx2 = 1,        // AVX2, FMA, BMI2
    AvxVnni = 2,     // + AVX-VNNI (256-bit vpdpbusd / vpdpwssd, e.g. Alder Lake, Zen 5)
    Avx512 = 3,      // AVX-512 F, BW, VL (vpmaddubsw / vpmaddwd on zmm)
    Avx512Vnni = 4,  // + AVX-512 VNNI (zmm vpdpbusd / vpdpwssd)
};
constexpr int kSimdLevels = 5;

std::vector<SimdLevel> supported_simd_levels();  // by this CPU and OS, Scalar first
SimdLevel best_simd_level();
bool simd_level_supported(SimdLevel level);
std::string simd_level_name(SimdLevel level);
// "scalar", "avx2", "avx-vnni", "avx512", "avx512-vnni" or "auto" (the best); throws
// Error(InvalidArgument) for an unknown name or a family this CPU lacks.
SimdLevel parse_simd_level(const std::string& name);

// The family asked for (AKQ_SIMD at start-up, else the best). The engine may run a lower one if
// this family failed its self-check (engine/dispatch.cpp).
SimdLevel requested_simd_level();
void set_simd_level(const std::string& name);

}  // namespace akq
