// AVX-512 (F, BW, VL) kernels (compiled with -mavx512bw -mavx512vl): the products of
// kernels_simd.hpp on zmm registers; the rest is the AVX2 family's.
#include "akq/engine/isa.hpp"
#include "akq/engine/kernels.hpp"

#if defined(AKQ_ISA_AVX512)
#include "akq/engine/kernels_simd.hpp"

namespace akq {

namespace {

// 8 rows x 32 filters (16 accumulators, 2 weight vectors, a broadcast), 12 x 16, or 12 x 8.
void gemm_s16(const int16_t* a, int64_t lda, int64_t rows, int32_t segments, int64_t stride, int64_t units,
              const int16_t* packed, int32_t filters_padded, int32_t* c, int64_t ldc) {
    gemm_s16_t<Avx512Ops, Avx2Ops, 8, 12, 12>(a, lda, rows, segments, stride, units, packed, filters_padded, c,
                                              ldc);
}

// int16 sums and int32 accumulators: 6 rows x 32 filters (27 registers), 12 x 16, or 12 x 8.
void gemm_u8(const uint8_t* a, int64_t lda, int64_t rows, int32_t segments, int64_t stride, int64_t units,
             const int8_t* packed, int32_t filters_padded, int32_t group, int32_t* c, int64_t ldc) {
    gemm_u8_t<Avx512Ops, Avx2Ops, 6, 12, 12>(a, lda, rows, segments, stride, units, packed, filters_padded, group,
                                             c, ldc);
}

}  // namespace

const Kernels* avx512_kernels() {
    static const Kernels k = [] {
        Kernels family = *avx2_kernels();
        family.gemm_s16 = gemm_s16;
        family.gemm_u8 = gemm_u8;
        return family;
    }();
    return &k;
}

}  // namespace akq

#else

namespace akq {
const Kernels* avx512_kernels() { return nullptr; }  // not an x86 build
}  // namespace akq

#endif
