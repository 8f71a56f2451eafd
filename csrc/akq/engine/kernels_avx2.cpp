// AVX2 kernels (this file is compiled with -mavx2 -mfma -mbmi2): the products of kernels_simd.hpp
// on ymm registers, and the activation, event counts and pooling that every x86 family shares.
// Same results as kernels_scalar.cpp, bit for bit.
#include "akq/engine/depthwise_scalar.hpp"
#include "akq/engine/isa.hpp"
#include "akq/engine/kernels.hpp"
#include "akq/engine/layer_ops.hpp"
#include "akq/engine/plan.hpp"

#if defined(AKQ_ISA_AVX2)
#include "akq/engine/kernels_simd.hpp"

#include <algorithm>
#include <climits>
#include <cstring>

namespace akq {

namespace {

inline __m256i load(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// int16: 6 rows x 16 filters (12 accumulators, 2 weight vectors, a broadcast: 15 registers), or 13
// rows x 8 filters for the last 8-filter panel.
void gemm_s16(const int16_t* a, int64_t lda, int64_t rows, int32_t segments, int64_t stride, int64_t units,
              const int16_t* packed, int32_t filters_padded, int32_t* c, int64_t ldc) {
    gemm_s16_t<Avx2Ops, Avx2Ops, 6, 1, 13>(a, lda, rows, segments, stride, units, packed, filters_padded, c, ldc);
}

// uint8: 4 rows x 16 filters (8 int16 sums, 2 weight vectors and a broadcast in registers; the int32
// accumulators, touched once per group, may wait in L1; whole tiles for 8, 16 and 32 rows) or 6 rows
// x 8 filters.
void gemm_u8(const uint8_t* a, int64_t lda, int64_t rows, int32_t segments, int64_t stride, int64_t units,
             const int8_t* packed, int32_t filters_padded, int32_t group, int32_t* c, int64_t ldc) {
    gemm_u8_t<Avx2Ops, Avx2Ops, 4, 1, 6>(a, lda, rows, segments, stride, units, packed, filters_padded, group, c,
                                         ldc);
}

// Non-zero bytes among the low 8 of v, among the 32 of v.
inline int32_t nonzero8(__m128i v) {
    const auto zeros = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128())));
    return 8 - __builtin_popcount(zeros & 0xFFu);
}
inline int32_t nonzero32(__m256i v) {
    const auto zeros = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_setzero_si256())));
    return 32 - __builtin_popcount(zeros);
}

// 8 int32 levels in [0, 255] to 8 bytes.
inline __m128i levels_to_bytes(__m256i level) {
    const __m128i words = _mm_packus_epi32(_mm256_castsi256_si128(level), _mm256_extracti128_si256(level, 1));
    return _mm_packus_epi16(words, words);
}

// Each row's count into *events and, unless null, row_events[r].
inline void count_row(int32_t n, int64_t r, int64_t* events, int32_t* row_events) {
    *events += n;
    if (row_events) row_events[r] += n;
}

// docs/spec C.6 on one block of 8 filters: numerator (2^b z - 1) mod 2^28 in uint32 lanes, its quotient
// by step16 as (numerator * magic) >> shift in 64-bit lanes (exact for numerators below 2^28).
void activate_exact(const int32_t* p, int64_t rows, int64_t ld, int64_t filters, const int32_t* threshold,
                    const uint32_t* magic, const uint32_t* shift, int32_t bits, uint8_t* out, int32_t* row_events,
                    int64_t* events) {
    const __m256i mask28 = _mm256_set1_epi32(arithmetic::kNumeratorMask), one = _mm256_set1_epi32(1);
    const __m256i zero = _mm256_setzero_si256(), top = _mm256_set1_epi32((1 << bits) - 1);
    const __m256i low32 = _mm256_set1_epi64x(0xFFFFFFFF);
    const __m128i count = _mm_cvtsi32_si128(bits);
    const __m256i th = load(threshold), m_even = load(magic), m_odd = _mm256_srli_epi64(m_even, 32);
    const __m256i s = load(shift), s_even = _mm256_and_si256(s, low32), s_odd = _mm256_srli_epi64(s, 32);
    for (int64_t r = 0; r < rows; ++r) {
        const __m256i z = _mm256_sub_epi32(load(p + r * ld), th);
        const __m256i num = _mm256_and_si256(_mm256_sub_epi32(_mm256_sll_epi32(z, count), one), mask28);
        const __m256i q_even = _mm256_srlv_epi64(_mm256_mul_epu32(num, m_even), s_even);
        const __m256i q_odd = _mm256_srlv_epi64(_mm256_mul_epu32(_mm256_srli_epi64(num, 32), m_odd), s_odd);
        const __m256i q = _mm256_blend_epi32(q_even, _mm256_slli_epi64(q_odd, 32), 0xAA);
        const __m256i fired = _mm256_cmpgt_epi32(z, zero);  // then level >= 1
        const __m256i level = _mm256_and_si256(_mm256_min_epi32(_mm256_add_epi32(q, one), top), fired);
        const __m128i bytes = levels_to_bytes(level);
        _mm_storel_epi64(reinterpret_cast<__m128i*>(out + r * filters), bytes);
        count_row(nonzero8(bytes), r, events, row_events);
    }
}

// The same levels in float32 for steps of at most kFloatStepLimit, while no numerator wraps (z at most
// 2^(28-b)): level = min(trunc(z * 2^b / step16 + 1 - 1 / (2 step16)), 2^b - 1), one multiply-add; for z
// <= 0 that is 0 or negative (INT32_MIN if out of range), and the unsigned saturation of the packing to
// bytes makes it 0. The exact value lies at least 1 / (2 step16) >= 2^-18 from an integer, and below the
// clamp (values under 16) the float32 error is under 1.5 * 2^-20; values of z that float32 rounds are far
// above the clamp.
constexpr uint32_t kFloatStepLimit = 1u << 17;

// Vecs vectors of 8 filters per row (4: one 32-byte store). Returns the rows done: all, or up to the
// first where a numerator wraps, which the exact path takes from there.
template <int Vecs>
int64_t activate_float(const int32_t* p, int64_t rows, int64_t ld, int64_t filters, const int32_t* threshold,
                       const uint32_t* step16, int32_t bits, uint8_t* out, int32_t* row_events, int64_t* events) {
    const __m256i zero = _mm256_setzero_si256(), top = _mm256_set1_epi32((1 << bits) - 1);
    const __m256i limit = _mm256_set1_epi32(1 << (arithmetic::kNumeratorBits - bits));
    __m256i th[Vecs];
    __m256 scale[Vecs], offset[Vecs];
    for (int v = 0; v < Vecs; ++v) {
        th[v] = load(threshold + 8 * v);
        const __m256 inv = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_cvtepi32_ps(load(step16 + 8 * v)));
        scale[v] = _mm256_mul_ps(inv, _mm256_set1_ps(static_cast<float>(1 << bits)));
        offset[v] = _mm256_sub_ps(_mm256_set1_ps(1.0f), _mm256_mul_ps(inv, _mm256_set1_ps(0.5f)));
    }
    for (int64_t r = 0; r < rows; ++r) {
        __m256i z[Vecs], wraps = zero;
        for (int v = 0; v < Vecs; ++v) {
            z[v] = _mm256_sub_epi32(load(p + r * ld + 8 * v), th[v]);
            wraps = _mm256_or_si256(wraps, _mm256_cmpgt_epi32(z[v], limit));
        }
        if (!_mm256_testz_si256(wraps, wraps)) return r;
        __m256i level[Vecs];
        for (int v = 0; v < Vecs; ++v) {
            const __m256 x = _mm256_cvtepi32_ps(z[v]);  // z <= 0 gives a level <= 0, which packs to 0
            level[v] = _mm256_min_epi32(_mm256_cvttps_epi32(_mm256_fmadd_ps(x, scale[v], offset[v])), top);
        }
        if constexpr (Vecs == 4) {
            const __m256i bytes = _mm256_permutevar8x32_epi32(
                _mm256_packus_epi16(_mm256_packus_epi32(level[0], level[1]), _mm256_packus_epi32(level[2], level[3])),
                _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + r * filters), bytes);
            count_row(nonzero32(bytes), r, events, row_events);
        } else {
            static_assert(Vecs == 1);
            const __m128i bytes = levels_to_bytes(level[0]);
            _mm_storel_epi64(reinterpret_cast<__m128i*>(out + r * filters), bytes);
            count_row(nonzero8(bytes), r, events, row_events);
        }
    }
    return rows;
}

// Vecs blocks of 8 filters: in float32 where it is exact, else on the exact path.
template <int Vecs>
void activate_block(const int32_t* p, int64_t rows, int64_t ld, int64_t filters, const int32_t* threshold,
                    const uint32_t* step16, const uint32_t* magic, const uint32_t* shift, int32_t bits, uint8_t* out,
                    int32_t* row_events, int64_t* events) {
    __m256i large = _mm256_setzero_si256();
    for (int v = 0; v < Vecs; ++v)  // steps are below 2^28: a signed compare
        large = _mm256_or_si256(large, _mm256_cmpgt_epi32(load(step16 + 8 * v), _mm256_set1_epi32(kFloatStepLimit)));
    const int64_t done =
        _mm256_testz_si256(large, large)
            ? activate_float<Vecs>(p, rows, ld, filters, threshold, step16, bits, out, row_events, events)
            : 0;
    if (done == rows) return;
    for (int v = 0; v < Vecs; ++v)
        activate_exact(p + done * ld + 8 * v, rows - done, ld, filters, threshold + 8 * v, magic + 8 * v,
                       shift + 8 * v, bits, out + done * filters + 8 * v, row_events ? row_events + done : nullptr,
                       events);
}

int64_t activate_rows(const int32_t* p, int64_t rows, int64_t ld, int64_t filters, const int32_t* threshold,
                      const uint32_t* step16, const uint32_t* magic, const uint32_t* shift, int32_t bits,
                      uint8_t* out, int32_t* row_events) {
    if (row_events) std::fill_n(row_events, rows, 0);
    // Blocks of filters against every row: their thresholds and steps stay in registers.
    int64_t events = 0, f = 0;
    for (; f + 32 <= filters; f += 32)
        activate_block<4>(p + f, rows, ld, filters, threshold + f, step16 + f, magic + f, shift + f, bits, out + f,
                          row_events, &events);
    for (; f + 8 <= filters; f += 8)
        activate_block<1>(p + f, rows, ld, filters, threshold + f, step16 + f, magic + f, shift + f, bits, out + f,
                          row_events, &events);
    for (int64_t r = 0; r < rows && f < filters; ++r) {
        int32_t row = 0;
        for (int64_t g = f; g < filters; ++g) {
            const uint8_t v = activate(p[r * ld + g], threshold[g], step16[g], bits);
            out[r * filters + g] = v;
            row += v != 0;
        }
        count_row(row, r, &events, row_events);
    }
    return events;
}

// The taps of one window in row-major order, walked along its k0 rows of k1 cells.
struct WalkedTaps {
    const uint8_t* row;
    int64_t row_stride, channels;
    int32_t k1, b = 0;
    const uint8_t* next() {
        const uint8_t* x = row + int64_t{b} * channels;
        if (++b == k1) b = 0, row += row_stride;
        return x;
    }
};

// The taps of a 3 x 3 window, from offsets computed once per call.
struct Taps3x3 {
    const uint8_t* origin;
    const int64_t* offset;
    int i = 0;
    const uint8_t* next() { return origin + offset[i++]; }
};

// The inputs of two taps interleaved (vpunpck{l,h}bw), one vpmaddubsw per tap pair summing both taps'
// products of a channel in its int16 lane (at most 2 * 15 * 128: no saturation; the sums fit int16 by
// plan.cpp). A 32-channel block at one window; returns its non-zero sums.
template <class Taps, class Count>
inline int64_t block32(Taps taps, Count taps_count, const int8_t* pairs, int16_t* out) {
    __m256i lo = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
    for (int32_t t = 0; t < taps_count; t += 2, pairs += 64) {
        const uint8_t* first_tap = taps.next();
        const __m256i x0 = load(first_tap), x1 = load(t + 1 < taps_count ? taps.next() : first_tap);  // weight 0
        lo = _mm256_add_epi16(lo, _mm256_maddubs_epi16(_mm256_unpacklo_epi8(x0, x1), load(pairs)));
        hi = _mm256_add_epi16(hi, _mm256_maddubs_epi16(_mm256_unpackhi_epi8(x0, x1), load(pairs + 32)));
    }
    const __m256i first = _mm256_permute2x128_si256(lo, hi, 0x20), second = _mm256_permute2x128_si256(lo, hi, 0x31);
    Avx2Ops::store16(out, first);
    Avx2Ops::store16(out + 16, second);
    return 32 - Avx2Ops::zeros16(first) - Avx2Ops::zeros16(second);
}

// The same for a block of 16 channels (xmm inputs, interleaved into one ymm in channel order).
template <class Taps, class Count>
inline int64_t block16(Taps taps, Count taps_count, const int8_t* pairs, int16_t* out) {
    __m256i sum = _mm256_setzero_si256();
    for (int32_t t = 0; t < taps_count; t += 2, pairs += 32) {
        const uint8_t* first_tap = taps.next();
        const __m128i x0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(first_tap));
        const __m128i x1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t + 1 < taps_count ? taps.next() : first_tap));
        const __m256i x = _mm256_set_m128i(_mm_unpackhi_epi8(x0, x1), _mm_unpacklo_epi8(x0, x1));
        sum = _mm256_add_epi16(sum, _mm256_maddubs_epi16(x, load(pairs)));
    }
    Avx2Ops::store16(out, sum);
    return 16 - Avx2Ops::zeros16(sum);
}

// Per window: blocks of 32 channels, a block of 16, then the last channels one at a time. 3 x 3
// windows (nearly every separable layer) take their taps from a table and unrolled loops.
int64_t depthwise16(const uint8_t* origin, int64_t row_stride, int64_t step, int64_t positions, int32_t k0,
                    int32_t k1, int32_t channels, const int16_t* w, const int8_t* pairs, int16_t* out, int64_t ld) {
    const int64_t C = channels, blocks = C / 32, pairs_per_block = (int64_t{k0} * k1 + 1) / 2;
    const bool has16 = C % 32 >= 16;
    const int32_t vector_end = static_cast<int32_t>(blocks * 32 + (has16 ? 16 : 0));
    const int8_t* pairs16 = pairs + blocks * pairs_per_block * 64;
    const int64_t offset[9] = {0,          C,          2 * C,          row_stride,    row_stride + C,
                               row_stride + 2 * C, 2 * row_stride, 2 * row_stride + C, 2 * row_stride + 2 * C};
    int64_t nonzero = 0;
    auto run = [&](auto make_taps, auto taps_count) {
        for (int64_t p = 0; p < positions; ++p) {
            const uint8_t* x = origin + p * step;
            int16_t* o = out + p * ld;
            for (int64_t block = 0; block < blocks; ++block)
                nonzero += block32(make_taps(x + block * 32), taps_count, pairs + block * pairs_per_block * 64,
                                   o + block * 32);
            if (has16) nonzero += block16(make_taps(x + blocks * 32), taps_count, pairs16, o + blocks * 32);
            nonzero += depthwise16_channels(x, row_stride, k0, k1, vector_end, channels, w, o);
        }
    };
    if (k0 == 3 && k1 == 3)
        run([&](const uint8_t* x) { return Taps3x3{x, offset}; }, std::integral_constant<int32_t, 9>{});
    else
        run([&](const uint8_t* x) { return WalkedTaps{x, row_stride, C, k1}; }, k0 * k1);
    return nonzero;
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

// The global sum of Vecs vectors of 8 filters over every position: independent accumulators hide the
// latency of each one's add, max and min.
template <int Vecs>
void global_sum_block(const int32_t* potentials, int64_t positions, int64_t ld, int32_t* pooled) {
    const __m256i lo = _mm256_set1_epi32(2 * arithmetic::kPotentialMin);
    const __m256i hi = _mm256_set1_epi32(-2 * arithmetic::kPotentialMin);
    const __m256i sum_lo = _mm256_set1_epi32(arithmetic::kPotentialMin);
    const __m256i sum_hi = _mm256_set1_epi32(arithmetic::kPotentialMax);
    __m256i sum[Vecs];
    for (int v = 0; v < Vecs; ++v) sum[v] = _mm256_setzero_si256();
    for (int64_t pos = 0; pos < positions; ++pos)
        for (int v = 0; v < Vecs; ++v) {
            const __m256i bounded = _mm256_min_epi32(_mm256_max_epi32(load(potentials + pos * ld + 8 * v), lo), hi);
            sum[v] = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(sum[v], bounded), sum_lo), sum_hi);
        }
    for (int v = 0; v < Vecs; ++v) _mm256_storeu_si256(reinterpret_cast<__m256i*>(pooled + 8 * v), sum[v]);
}

void global_sum(const int32_t* potentials, int64_t positions, int64_t ld, int64_t filters, int32_t* pooled) {
    int64_t f = 0;
    for (; f + 32 <= filters; f += 32) global_sum_block<4>(potentials + f, positions, ld, pooled + f);
    for (; f + 8 <= filters; f += 8) global_sum_block<1>(potentials + f, positions, ld, pooled + f);
    for (; f < filters; ++f) {
        pooled[f] = 0;
        for (int64_t pos = 0; pos < positions; ++pos) pooled[f] = global_sum_step(pooled[f], potentials[pos * ld + f]);
    }
}

// Non-zero bytes of a cell of 2..32 channels from one 32-byte load (the caller keeps it in bounds).
inline int64_t cell_events(const uint8_t* cell, int64_t channels) {
    const uint32_t zero = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(load(cell), _mm256_setzero_si256())));
    const uint32_t in_cell = channels == 32 ? ~0u : (1u << channels) - 1;
    return channels - __builtin_popcount(zero & in_cell);
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
    } else if (channels <= 32) {  // one load per cell while 32 bytes from the cell stay inside x
        for (; (cell * channels) + 32 <= cells * channels; ++cell) {
            const int64_t n = cell_events(x + cell * channels, channels);
            events += n;
            total += n * fanout[cell];
        }
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

// The 20-bit bounded max of one window for each vector of 8 filters (window(f) reads the vector at
// filter f), stored. Potential rows are ld >= filters rounded up to 8 apart, so whole vectors are
// read; only the store of a last partial vector is masked.
template <class Window>
inline void pool_window(int64_t filters, int32_t* out, const Window& window) {
    const __m256i lo = _mm256_set1_epi32(arithmetic::kPotentialMin), hi = _mm256_set1_epi32(arithmetic::kPotentialMax);
    for (int64_t f = 0; f < filters; f += 8) {
        const __m256i m = _mm256_min_epi32(_mm256_max_epi32(window(f), lo), hi);
        if (f + 8 <= filters) {
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + f), m);
        } else {
            const __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(filters % 8)),
                                                    _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
            _mm256_maskstore_epi32(out + f, tail, m);
        }
    }
}

void max_pool(const int32_t* potentials, const PoolGeometry& g, int32_t* pooled) {
    const int64_t ld = g.ld, filters = g.filters, down = int64_t{g.out1} * ld;
    for (int32_t u = 0; u < g.pool0; ++u) {
        const int32_t i0 = std::max(u * g.r0 - g.pad0, 0), i1 = std::min(u * g.r0 - g.pad0 + g.q0, g.out0);
        int32_t* out_row = pooled + int64_t{u} * g.pool1 * filters;
        // 2 x 2 windows 2 apart (the common pooling; TF pads them only after the potentials), unrolled
        // up to the first clipped one.
        int32_t full = 0;
        if (i1 - i0 == 2 && g.q1 == 2 && g.r1 == 2 && g.pad1 == 0) {
            full = std::min(g.pool1, g.out1 / 2);
            const int32_t* row = potentials + int64_t{i0} * down;
            for (int32_t v = 0; v < full; ++v) {
                const int32_t* p = row + int64_t{2} * v * ld;
                pool_window(filters, out_row + int64_t{v} * filters, [&](int64_t f) {
                    return _mm256_max_epi32(_mm256_max_epi32(load(p + f), load(p + ld + f)),
                                            _mm256_max_epi32(load(p + down + f), load(p + down + ld + f)));
                });
            }
        }
        for (int32_t v = full; v < g.pool1; ++v) {  // any window, clipped to the potentials
            const int32_t j0 = std::max(v * g.r1 - g.pad1, 0), j1 = std::min(v * g.r1 - g.pad1 + g.q1, g.out1);
            pool_window(filters, out_row + int64_t{v} * filters, [&](int64_t f) {
                __m256i m = _mm256_set1_epi32(INT32_MIN);
                for (int32_t i = i0; i < i1; ++i)
                    for (int32_t j = j0; j < j1; ++j)
                        m = _mm256_max_epi32(m, load(potentials + (int64_t{i} * g.out1 + j) * ld + f));
                return m;
            });
        }
    }
}

}  // namespace

const Kernels* avx2_kernels() {
    static const Kernels k{gemm_s16,      gemm_u8,      activate_rows, depthwise16,
                           count_nonzero, count_events, max_pool,      global_sum};
    return &k;
}

}  // namespace akq

#else

namespace akq {
const Kernels* avx2_kernels() { return nullptr; }  // not an x86 build
}  // namespace akq

#endif
