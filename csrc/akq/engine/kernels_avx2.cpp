// AVX2 kernels (this file is compiled with -mavx2): vpmaddwd on int16 pairs, 4 rows x 16 filters
// of int32 accumulators per step. Same results as kernels_scalar.cpp, bit for bit.
#include "akq/engine/depthwise_scalar.hpp"
#include "akq/engine/kernels.hpp"
#include "akq/engine/layer_ops.hpp"
#include "akq/engine/plan.hpp"

#if defined(__AVX2__)
#include <immintrin.h>

#include <algorithm>
#include <climits>
#include <cstring>

namespace akq {

namespace {

inline __m256i broadcast32(const void* p) {
    int32_t v;
    std::memcpy(&v, p, sizeof v);
    return _mm256_set1_epi32(v);
}

inline __m256i load(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// Rows x Blocks tile of int32 accumulators (Blocks consecutive 8-filter blocks): vpmaddwd of
// broadcast int16 pairs with the packed weights.
template <int Rows, int Blocks>
void tile_s16(const int16_t* a, int64_t lda, int32_t segments, int64_t stride, int64_t units, const int16_t* w,
              int64_t block_size, int32_t* c, int64_t ldc) {
    __m256i acc[Rows][Blocks];
    for (int r = 0; r < Rows; ++r)
        for (int b = 0; b < Blocks; ++b) acc[r][b] = _mm256_setzero_si256();
    for (int32_t seg = 0; seg < segments; ++seg) {
        const int16_t* x = a + seg * stride;
        for (int64_t u = 0; u < units; ++u, x += 2, w += kFilterBlock * 2) {
            __m256i wv[Blocks];
            for (int b = 0; b < Blocks; ++b) wv[b] = load(w + b * block_size);
            for (int r = 0; r < Rows; ++r) {
                const __m256i xv = broadcast32(x + r * lda);
                for (int b = 0; b < Blocks; ++b) acc[r][b] = _mm256_add_epi32(acc[r][b], _mm256_madd_epi16(xv, wv[b]));
            }
        }
    }
    for (int r = 0; r < Rows; ++r)
        for (int b = 0; b < Blocks; ++b)
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + r * ldc + b * kFilterBlock), acc[r][b]);
}

// Rows x Blocks tile for uint8 inputs: vpmaddubsw sums pairs of uint8 x int8 products into int16
// lanes, `group` quads at a time (never overflowing, see plan.cpp), then vpmaddwd widens the int16
// sums into int32 accumulators. Rows x Blocks <= 6 keeps both sets of sums in registers.
template <int Rows, int Blocks>
void tile_u8(const uint8_t* a, int64_t lda, int32_t segments, int64_t stride, int64_t units, const int8_t* w,
             int64_t block_size, int32_t group, int32_t* c, int64_t ldc) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i acc[Rows][Blocks];
    for (int r = 0; r < Rows; ++r)
        for (int b = 0; b < Blocks; ++b) acc[r][b] = _mm256_setzero_si256();
    for (int32_t seg = 0; seg < segments; ++seg) {
        const uint8_t* x = a + seg * stride;
        for (int64_t u0 = 0; u0 < units; u0 += group) {
            const int64_t u1 = u0 + group < units ? u0 + group : units;
            __m256i sum[Rows][Blocks];
            for (int r = 0; r < Rows; ++r)
                for (int b = 0; b < Blocks; ++b) sum[r][b] = _mm256_setzero_si256();
            for (int64_t u = u0; u < u1; ++u, x += 4, w += kFilterBlock * 4) {
                __m256i wv[Blocks];
                for (int b = 0; b < Blocks; ++b) wv[b] = load(w + b * block_size);
                for (int r = 0; r < Rows; ++r) {
                    const __m256i xv = broadcast32(x + r * lda);
                    for (int b = 0; b < Blocks; ++b)
                        sum[r][b] = _mm256_add_epi16(sum[r][b], _mm256_maddubs_epi16(xv, wv[b]));
                }
            }
            for (int r = 0; r < Rows; ++r)
                for (int b = 0; b < Blocks; ++b)
                    acc[r][b] = _mm256_add_epi32(acc[r][b], _mm256_madd_epi16(sum[r][b], ones));
        }
    }
    for (int r = 0; r < Rows; ++r)
        for (int b = 0; b < Blocks; ++b)
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + r * ldc + b * kFilterBlock), acc[r][b]);
}

// One group of Blocks filter blocks against every row, Rows at a time: the group's weights stay in
// L1 while the rows pass (looping over rows outside would stream all weights from L2 per row tile).
template <int Rows, int Blocks>
void column_s16(const int16_t* a, int64_t lda, int64_t rows, int32_t segments, int64_t stride, int64_t units,
                const int16_t* w, int64_t block_size, int32_t* c, int64_t ldc) {
    int64_t m = 0;
    for (; m + Rows <= rows; m += Rows)
        tile_s16<Rows, Blocks>(a + m * lda, lda, segments, stride, units, w, block_size, c + m * ldc, ldc);
    for (; m < rows; ++m) tile_s16<1, Blocks>(a + m * lda, lda, segments, stride, units, w, block_size, c + m * ldc, ldc);
}

template <int Rows, int Blocks>
void column_u8(const uint8_t* a, int64_t lda, int64_t rows, int32_t segments, int64_t stride, int64_t units,
               const int8_t* w, int64_t block_size, int32_t group, int32_t* c, int64_t ldc) {
    int64_t m = 0;
    for (; m + Rows <= rows; m += Rows)
        tile_u8<Rows, Blocks>(a + m * lda, lda, segments, stride, units, w, block_size, group, c + m * ldc, ldc);
    for (; m < rows; ++m)
        tile_u8<1, Blocks>(a + m * lda, lda, segments, stride, units, w, block_size, group, c + m * ldc, ldc);
}

// int16: 6 rows x 16 filters (12 accumulators, 2 weight vectors, a broadcast: 15 registers), or 8
// rows x 8 filters for a lone block.
void gemm_s16(const int16_t* a, int64_t lda, int64_t rows, int32_t segments, int64_t stride, int64_t units,
              const int16_t* packed, int32_t filters_padded, int32_t* c, int64_t ldc) {
    const int32_t blocks = filters_padded / kFilterBlock;
    const int64_t block_size = int64_t{segments} * units * kFilterBlock * 2;
    int32_t b = 0;
    for (; b + 2 <= blocks; b += 2)
        column_s16<6, 2>(a, lda, rows, segments, stride, units, packed + b * block_size, block_size,
                         c + b * kFilterBlock, ldc);
    if (b < blocks)
        column_s16<8, 1>(a, lda, rows, segments, stride, units, packed + b * block_size, block_size,
                         c + b * kFilterBlock, ldc);
}

// uint8: 3 rows x 16 filters or 6 rows x 8 filters (int16 sums and int32 accumulators: 14 registers).
void gemm_u8(const uint8_t* a, int64_t lda, int64_t rows, int32_t segments, int64_t stride, int64_t units,
             const int8_t* packed, int32_t filters_padded, int32_t group, int32_t* c, int64_t ldc) {
    const int32_t blocks = filters_padded / kFilterBlock;
    const int64_t block_size = int64_t{segments} * units * kFilterBlock * 4;
    int32_t b = 0;
    for (; b + 2 <= blocks; b += 2)
        column_u8<3, 2>(a, lda, rows, segments, stride, units, packed + b * block_size, block_size, group,
                        c + b * kFilterBlock, ldc);
    if (b < blocks)
        column_u8<6, 1>(a, lda, rows, segments, stride, units, packed + b * block_size, block_size, group,
                        c + b * kFilterBlock, ldc);
}

// docs/spec C.6 on 8 filters at a time: numerator (2^b z - 1) mod 2^28 in uint32 lanes, the quotient by
// step16 as (numerator * magic) >> shift in 64-bit lanes (exact for numerators below 2^28).
int64_t activate_rows(const int32_t* p, int64_t rows, int64_t ld, int64_t filters, const int32_t* threshold,
                      const uint32_t* step16, const uint32_t* magic, const uint32_t* shift, int32_t bits,
                      uint8_t* out) {
    const __m256i mask28 = _mm256_set1_epi32(0x0FFFFFFF), one = _mm256_set1_epi32(1), zero = _mm256_setzero_si256();
    const __m256i top = _mm256_set1_epi32((1 << bits) - 1);
    const __m128i count = _mm_cvtsi32_si128(bits);
    const int64_t vector_end = filters / 8 * 8;
    int64_t events = 0;
    for (int64_t r = 0; r < rows; ++r) {
        const int32_t* row = p + r * ld;
        uint8_t* dst = out + r * filters;
        for (int64_t f = 0; f < vector_end; f += 8) {
            const __m256i z = _mm256_sub_epi32(load(row + f), load(threshold + f));
            const __m256i num = _mm256_and_si256(_mm256_sub_epi32(_mm256_sll_epi32(z, count), one), mask28);
            const __m256i m = load(magic + f), s = load(shift + f);
            const __m256i s_even = _mm256_and_si256(s, _mm256_set1_epi64x(0xFFFFFFFF));
            const __m256i s_odd = _mm256_srli_epi64(s, 32);
            const __m256i q_even = _mm256_srlv_epi64(_mm256_mul_epu32(num, m), s_even);
            const __m256i q_odd = _mm256_srlv_epi64(_mm256_mul_epu32(_mm256_srli_epi64(num, 32), _mm256_srli_epi64(m, 32)), s_odd);
            const __m256i q = _mm256_blend_epi32(q_even, _mm256_slli_epi64(q_odd, 32), 0xAA);
            __m256i level = _mm256_min_epi32(_mm256_add_epi32(q, one), top);
            level = _mm256_and_si256(level, _mm256_cmpgt_epi32(z, zero));
            const __m128i packed16 = _mm_packus_epi32(_mm256_castsi256_si128(level), _mm256_extracti128_si256(level, 1));
            const __m128i packed8 = _mm_packus_epi16(packed16, packed16);
            _mm_storel_epi64(reinterpret_cast<__m128i*>(dst + f), packed8);
            events += __builtin_popcount(static_cast<uint32_t>(
                _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(level, zero)))));
        }
        for (int64_t f = vector_end; f < filters; ++f) {
            dst[f] = activate(row[f], threshold[f], step16[f], bits);
            events += dst[f] != 0;
        }
    }
    return events;
}

// 16 channels per step in int16 lanes: uint8 inputs widened, vpmullw by the tap weights, summed.
int64_t depthwise16(const uint8_t* origin, int64_t row_stride, int32_t k0, int32_t k1, int32_t channels,
                    const int16_t* w, int16_t* out) {
    int64_t nonzero = 0;
    int32_t c = 0;
    for (; c + 16 <= channels; c += 16) {
        __m256i acc = _mm256_setzero_si256();
        for (int32_t a = 0; a < k0; ++a) {
            const uint8_t* x = origin + a * row_stride + c;
            const int16_t* wa = w + int64_t{a} * k1 * channels + c;
            for (int32_t b = 0; b < k1; ++b, x += channels, wa += channels) {
                const __m256i xv = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x)));
                acc = _mm256_add_epi16(acc, _mm256_mullo_epi16(xv, load(wa)));
            }
        }
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + c), acc);
        const uint32_t zero = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi16(acc, _mm256_setzero_si256())));
        nonzero += 16 - __builtin_popcount(zero) / 2;
    }
    return nonzero + depthwise16_channels(origin, row_stride, k0, k1, c, channels, w, out);
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

int64_t count_events(const uint8_t* x, int64_t cells, int64_t channels, const int64_t* fanout, int64_t* ops) {
    int64_t events = 0, total = 0, cell = 0;
    if (channels == 1) {  // e.g. gray images: 4 cells per step, fan-outs selected by the event masks
        __m256i sum = _mm256_setzero_si256();
        for (; cell + 4 <= cells; cell += 4) {
            int32_t bytes;
            std::memcpy(&bytes, x + cell, sizeof bytes);
            const __m256i v = _mm256_cvtepu8_epi64(_mm_cvtsi32_si128(bytes));
            const __m256i zero = _mm256_cmpeq_epi64(v, _mm256_setzero_si256());
            sum = _mm256_add_epi64(sum, _mm256_andnot_si256(zero, load(fanout + cell)));
            events += 4 - __builtin_popcount(static_cast<uint32_t>(_mm256_movemask_pd(_mm256_castsi256_pd(zero))));
        }
        int64_t lanes[4];
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(lanes), sum);
        total = lanes[0] + lanes[1] + lanes[2] + lanes[3];
    }
    for (; cell < cells; ++cell) {
        const int64_t n = channels >= 32 ? count_nonzero(x + cell * channels, channels) : [&] {
            int64_t c = 0;
            for (int64_t i = 0; i < channels; ++i) c += x[cell * channels + i] != 0;
            return c;
        }();
        events += n;
        total += n * fanout[cell];
    }
    *ops += total;
    return events;
}

void max_pool(const int32_t* potentials, const PoolGeometry& g, int32_t* pooled) {
    const __m256i lo = _mm256_set1_epi32(-524288), hi = _mm256_set1_epi32(524287);
    const int64_t vector_end = g.filters / 8 * 8;
    for (int32_t u = 0; u < g.pool0; ++u) {
        const int32_t i0 = std::max(u * g.r0 - g.pad0, 0), i1 = std::min(u * g.r0 - g.pad0 + g.q0, g.out0);
        for (int32_t v = 0; v < g.pool1; ++v) {
            const int32_t j0 = std::max(v * g.r1 - g.pad1, 0), j1 = std::min(v * g.r1 - g.pad1 + g.q1, g.out1);
            int32_t* out = pooled + (int64_t{u} * g.pool1 + v) * g.filters;
            for (int64_t f = 0; f < g.filters; f += 8) {
                const bool full = f < vector_end;
                __m256i m = _mm256_set1_epi32(INT32_MIN);
                for (int32_t i = i0; i < i1; ++i)
                    for (int32_t j = j0; j < j1; ++j) {
                        const int32_t* p = potentials + (int64_t{i} * g.out1 + j) * g.ld + f;
                        if (full) {
                            m = _mm256_max_epi32(m, load(p));
                        } else {
                            alignas(32) int32_t tail[8];
                            _mm256_store_si256(reinterpret_cast<__m256i*>(tail), m);
                            for (int64_t l = 0; l < g.filters - f; ++l) tail[l] = std::max(tail[l], p[l]);
                            m = _mm256_load_si256(reinterpret_cast<const __m256i*>(tail));
                        }
                    }
                m = _mm256_min_epi32(_mm256_max_epi32(m, lo), hi);
                if (full) {
                    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + f), m);
                } else {
                    alignas(32) int32_t tail[8];
                    _mm256_store_si256(reinterpret_cast<__m256i*>(tail), m);
                    std::copy_n(tail, g.filters - f, out + f);
                }
            }
        }
    }
}

}  // namespace

const Kernels& avx2_kernels() {
    static const Kernels k{gemm_s16, gemm_u8, activate_rows, depthwise16, count_nonzero, count_events, max_pool};
    return k;
}

}  // namespace akq

#else

namespace akq {
// Not an x86 build: the dispatcher never selects this level (best_simd_level() is Scalar).
const Kernels& avx2_kernels() { return scalar_kernels(); }
}  // namespace akq

#endif
