// AVX2 kernels (this file is compiled with -mavx2): vpmaddwd on int16 pairs, 4 rows x 16 filters
// of int32 accumulators per step. Same results as kernels_scalar.cpp, bit for bit.
#include "akq/engine/kernels.hpp"
#include "akq/engine/plan.hpp"

#if defined(__AVX2__)
#include <immintrin.h>

#include <cstring>

namespace akq {

namespace {

inline __m256i broadcast_pair(const int16_t* p) {
    int32_t v;
    std::memcpy(&v, p, sizeof v);
    return _mm256_set1_epi32(v);
}

// Rows x Blocks tile: rows of A against Blocks consecutive 8-filter blocks of B.
template <int Rows, int Blocks>
void tile(const int16_t* a, int64_t lda, int64_t pairs, const int16_t* w, int32_t* c, int64_t ldc) {
    __m256i acc[Rows][Blocks];
    for (int r = 0; r < Rows; ++r)
        for (int b = 0; b < Blocks; ++b) acc[r][b] = _mm256_setzero_si256();
    const int64_t block_stride = pairs * kFilterBlock * 2;
    for (int64_t k = 0; k < pairs; ++k) {
        __m256i wv[Blocks];
        for (int b = 0; b < Blocks; ++b)
            wv[b] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + b * block_stride + k * kFilterBlock * 2));
        for (int r = 0; r < Rows; ++r) {
            const __m256i x = broadcast_pair(a + r * lda + 2 * k);
            for (int b = 0; b < Blocks; ++b) acc[r][b] = _mm256_add_epi32(acc[r][b], _mm256_madd_epi16(x, wv[b]));
        }
    }
    for (int r = 0; r < Rows; ++r)
        for (int b = 0; b < Blocks; ++b)
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + r * ldc + b * kFilterBlock), acc[r][b]);
}

template <int Rows>
void row_tile(const int16_t* a, int64_t lda, int64_t pairs, const int16_t* packed, int32_t filters_padded,
              int32_t* c, int64_t ldc) {
    const int32_t blocks = filters_padded / kFilterBlock;
    const int64_t block_stride = pairs * kFilterBlock * 2;
    int32_t b = 0;
    for (; b + 2 <= blocks; b += 2)
        tile<Rows, 2>(a, lda, pairs, packed + b * block_stride, c + b * kFilterBlock, ldc);
    if (b < blocks) tile<Rows, 1>(a, lda, pairs, packed + b * block_stride, c + b * kFilterBlock, ldc);
}

void gemm_s16(const int16_t* a, int64_t lda, int64_t rows, int64_t pairs, const int16_t* packed,
              int32_t filters_padded, int32_t* c, int64_t ldc) {
    int64_t m = 0;
    for (; m + 4 <= rows; m += 4) row_tile<4>(a + m * lda, lda, pairs, packed, filters_padded, c + m * ldc, ldc);
    switch (rows - m) {
        case 3: row_tile<3>(a + m * lda, lda, pairs, packed, filters_padded, c + m * ldc, ldc); break;
        case 2: row_tile<2>(a + m * lda, lda, pairs, packed, filters_padded, c + m * ldc, ldc); break;
        case 1: row_tile<1>(a + m * lda, lda, pairs, packed, filters_padded, c + m * ldc, ldc); break;
        default: break;
    }
}

void depthwise(const uint8_t* const* x, const int16_t* const* w, int32_t taps, int32_t channels, int32_t* out) {
    int32_t ch = 0;
    for (; ch + 8 <= channels; ch += 8) {
        __m256i acc = _mm256_setzero_si256();
        for (int32_t t = 0; t < taps; ++t) {
            if (!x[t]) continue;
            int64_t bytes;
            std::memcpy(&bytes, x[t] + ch, sizeof bytes);
            const __m256i xv = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(bytes));
            const __m256i wv = _mm256_cvtepi16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[t] + ch)));
            acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(xv, wv));
        }
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + ch), acc);
    }
    for (; ch < channels; ++ch) {
        int32_t acc = 0;
        for (int32_t t = 0; t < taps; ++t)
            if (x[t]) acc += int32_t{x[t][ch]} * w[t][ch];
        out[ch] = acc;
    }
}

int64_t count_nonzero(const uint8_t* x, int64_t n) {
    int64_t zeros = 0, i = 0;
    const __m256i zero = _mm256_setzero_si256();
    for (; i + 32 <= n; i += 32) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i));
        zeros += __builtin_popcount(static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, zero))));
    }
    int64_t nonzero = i - zeros;
    for (; i < n; ++i) nonzero += x[i] != 0;
    return nonzero;
}

}  // namespace

const Kernels& avx2_kernels() {
    static const Kernels k{gemm_s16, depthwise, count_nonzero};
    return k;
}

}  // namespace akq

#else

namespace akq {
// Not an x86 build: the dispatcher never selects this level (best_simd_level() is Scalar).
const Kernels& avx2_kernels() { return scalar_kernels(); }
}  // namespace akq

#endif
