// AVX-VNNI kernels (compiled with -mavxvnni): the products of kernels_simd.hpp with 256-bit
// vpdpbusd / vpdpwssd, which need no int16 partial sums; the rest is the AVX2 family's.
#include "akq/engine/isa.hpp"
#include "akq/engine/kernels.hpp"

#if defined(AKQ_ISA_AVX_VNNI)
#include "akq/engine/kernels_simd.hpp"

namespace akq {

namespace {

// 6 rows x 16 filters (12 accumulators, 2 weight vectors, a broadcast), or 12 rows x 8 filters.
void gemm_s16(const int16_t* a, int64_t lda, int64_t rows, int32_t segments, int64_t stride, int64_t units,
              const int16_t* packed, int32_t filters_padded, int32_t* c, int64_t ldc) {
    gemm_s16_t<AvxVnniOps, AvxVnniOps, 6, 1, 12>(a, lda, rows, segments, stride, units, packed, filters_padded, c,
                                                 ldc);
}

void gemm_u8(const uint8_t* a, int64_t lda, int64_t rows, int32_t segments, int64_t stride, int64_t units,
             const int8_t* packed, int32_t filters_padded, int32_t group, int32_t* c, int64_t ldc) {
    gemm_u8_t<AvxVnniOps, AvxVnniOps, 6, 1, 12>(a, lda, rows, segments, stride, units, packed, filters_padded,
                                                group, c, ldc);
}

}  // namespace

const Kernels* avx_vnni_kernels() {
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
const Kernels* avx_vnni_kernels() { return nullptr; }  // the compiler has no -mavxvnni, or not x86
}  // namespace akq

#endif
