// AVX-512 VNNI kernels (compiled with -mavx512vnni): the products of kernels_simd.hpp with zmm
// vpdpbusd / vpdpwssd (ymm for the last 8-filter panel); the rest is the AVX-512 family's.
#include "akq/engine/isa.hpp"
#include "akq/engine/kernels.hpp"

#if defined(AKQ_ISA_AVX512_VNNI)
#include "akq/engine/kernels_simd.hpp"

namespace akq {

namespace {

// 12 rows x 32 filters (24 accumulators, 2 weight vectors, a broadcast), 12 x 16, or 12 x 8.
void gemm_s16(const int16_t* a, int64_t lda, int64_t rows, int32_t segments, int64_t stride, int64_t units,
              const int16_t* packed, int32_t filters_padded, int32_t* c, int64_t ldc) {
    gemm_s16_t<Avx512VnniOps, Avx512VnniHalfOps, 12, 12, 12>(a, lda, rows, segments, stride, units, packed,
                                                             filters_padded, c, ldc);
}

void gemm_u8(const uint8_t* a, int64_t lda, int64_t rows, int32_t segments, int64_t stride, int64_t units,
             const int8_t* packed, int32_t filters_padded, int32_t group, int32_t* c, int64_t ldc) {
    gemm_u8_t<Avx512VnniOps, Avx512VnniHalfOps, 12, 12, 12>(a, lda, rows, segments, stride, units, packed,
                                                            filters_padded, group, c, ldc);
}

}  // namespace

const Kernels* avx512_vnni_kernels() {
    const Kernels* base = avx512_kernels();
    if (!base) return nullptr;
    static const Kernels k = [base] {
        Kernels family = *base;
        family.gemm_s16 = gemm_s16;
        family.gemm_u8 = gemm_u8;
        return family;
    }();
    return &k;
}

}  // namespace akq

#else

namespace akq {
const Kernels* avx512_vnni_kernels() { return nullptr; }  // the compiler has no -mavx512vnni, or not x86
}  // namespace akq

#endif
