// Portable kernels: the definition of the arithmetic the SIMD kernels must reproduce bit for bit.
#include "akq/engine/kernels.hpp"
#include "akq/engine/plan.hpp"

namespace akq {

namespace {

void gemm_s16(const int16_t* a, int64_t lda, int64_t rows, int64_t depth_pairs, const int16_t* packed,
              int32_t filters_padded, int32_t* c, int64_t ldc) {
    for (int64_t m = 0; m < rows; ++m) {
        const int16_t* row = a + m * lda;
        for (int32_t block = 0; block < filters_padded / kFilterBlock; ++block) {
            int64_t acc[kFilterBlock] = {};
            const int16_t* w = packed + block * depth_pairs * kFilterBlock * 2;
            for (int64_t k = 0; k < depth_pairs; ++k, w += kFilterBlock * 2) {
                const int32_t x0 = row[2 * k], x1 = row[2 * k + 1];
                if ((x0 | x1) == 0) continue;  // no event, no work
                for (int lane = 0; lane < kFilterBlock; ++lane) acc[lane] += x0 * w[2 * lane] + x1 * w[2 * lane + 1];
            }
            // int32 wrap-around, as the SIMD accumulators do.
            for (int lane = 0; lane < kFilterBlock; ++lane)
                c[m * ldc + block * kFilterBlock + lane] = static_cast<int32_t>(static_cast<uint32_t>(acc[lane]));
        }
    }
}

void depthwise(const uint8_t* const* x, const int16_t* const* w, int32_t taps, int32_t channels, int32_t* out) {
    for (int32_t ch = 0; ch < channels; ++ch) out[ch] = 0;
    for (int32_t t = 0; t < taps; ++t) {
        if (!x[t]) continue;
        for (int32_t ch = 0; ch < channels; ++ch) out[ch] += int32_t{x[t][ch]} * w[t][ch];
    }
}

int64_t count_nonzero(const uint8_t* x, int64_t n) {
    int64_t count = 0;
    for (int64_t i = 0; i < n; ++i) count += x[i] != 0;
    return count;
}

}  // namespace

const Kernels& scalar_kernels() {
    static const Kernels k{gemm_s16, depthwise, count_nonzero};
    return k;
}

}  // namespace akq
