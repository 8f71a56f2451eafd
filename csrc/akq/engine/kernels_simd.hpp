// The vector kernels written once over an instruction-set type (Ops) and compiled in each family's
// translation unit with that family's flags (kernels_avx2.cpp, kernels_avx_vnni.cpp,
// kernels_avx512.cpp, kernels_avx512_vnni.cpp). Internal to the engine.
//
// Ops provides V (a register of kLanes int32 lanes), zero/load/broadcast32/store, dot_s16 (acc +
// pairs of int16 products) and, for uint8 x int8 quads, either dot_u8 (acc + quads, VNNI) or, when
// kInt16Sums, sum_u8 (S, int16 sums of pairs of products, vpmaddubsw) and widen (acc + int16 sums).
// gemm_*_t<Full, Half, Rows2, Rows1, RowsHalf>: tiles of Rows2 rows x 2 vectors of Full, Rows1 x 1
// vector (16-lane Full only) and RowsHalf x 1 vector of Half (ymm) for the last 8-filter panel.
#pragma once
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "akq/engine/isa.hpp"
#include "akq/engine/plan.hpp"

namespace akq {

// Internal linkage on purpose: every family's translation unit has its own build of these.
namespace {

#if defined(AKQ_ISA_AVX2)
struct Avx2Ops {
    using V = __m256i;
    static constexpr int kLanes = 8;
    static constexpr bool kInt16Sums = true;
    static V zero() { return _mm256_setzero_si256(); }
    static V load(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
    static V broadcast32(const void* p) {
        int32_t v;
        std::memcpy(&v, p, sizeof v);
        return _mm256_set1_epi32(v);
    }
    static void store(int32_t* p, V v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
    static V dot_s16(V acc, V x, V w) { return _mm256_add_epi32(acc, _mm256_madd_epi16(x, w)); }
    // The int16 sums in a type of their own: kept as __m256i, they are converted at every step, and
    // GCC 12 then copies each sum to another register per step (8 moves in a loop of 34 instructions).
    using S = __v16hu;
    static S sum_u8(S sum, V x, V w) { return sum + (S)_mm256_maddubs_epi16(x, w); }
    static V widen(V acc, S sum) { return _mm256_add_epi32(acc, _mm256_madd_epi16((V)sum, _mm256_set1_epi16(1))); }
    static void store16(int16_t* p, V v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
    static int zeros16(V v) {
        return __builtin_popcount(
                   static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi16(v, _mm256_setzero_si256())))) / 2;
    }
};
#endif

#if defined(AKQ_ISA_AVX_VNNI)
struct AvxVnniOps : Avx2Ops {
    static constexpr bool kInt16Sums = false;
    static V dot_s16(V acc, V x, V w) { return _mm256_dpwssd_avx_epi32(acc, x, w); }
    static V dot_u8(V acc, V x, V w) { return _mm256_dpbusd_avx_epi32(acc, x, w); }
};
#endif

#if defined(AKQ_ISA_AVX512)
struct Avx512Ops {
    using V = __m512i;
    static constexpr int kLanes = 16;
    static constexpr bool kInt16Sums = true;
    static V zero() { return _mm512_setzero_si512(); }
    static V load(const void* p) { return _mm512_loadu_si512(p); }
    static V broadcast32(const void* p) {
        int32_t v;
        std::memcpy(&v, p, sizeof v);
        return _mm512_set1_epi32(v);
    }
    static void store(int32_t* p, V v) { _mm512_storeu_si512(p, v); }
    static V dot_s16(V acc, V x, V w) { return _mm512_add_epi32(acc, _mm512_madd_epi16(x, w)); }
    using S = __v32hu;
    static S sum_u8(S sum, V x, V w) { return sum + (S)_mm512_maddubs_epi16(x, w); }
    static V widen(V acc, S sum) { return _mm512_add_epi32(acc, _mm512_madd_epi16((V)sum, _mm512_set1_epi16(1))); }
};
#endif

#if defined(AKQ_ISA_AVX512_VNNI)
struct Avx512VnniOps : Avx512Ops {
    static constexpr bool kInt16Sums = false;
    static V dot_s16(V acc, V x, V w) { return _mm512_dpwssd_epi32(acc, x, w); }
    static V dot_u8(V acc, V x, V w) { return _mm512_dpbusd_epi32(acc, x, w); }
};
// The 8-filter panel of an AVX-512 VNNI build: the same instructions on ymm registers.
struct Avx512VnniHalfOps : Avx2Ops {
    static constexpr bool kInt16Sums = false;
    static V dot_s16(V acc, V x, V w) { return _mm256_dpwssd_epi32(acc, x, w); }
    static V dot_u8(V acc, V x, V w) { return _mm256_dpbusd_epi32(acc, x, w); }
};
#endif

// f(integral_constant<R>, m) over rows [0, rows) in tiles of Rows rows, then one tile of the rest.
template <int R, class F>
void tail_tile(int64_t left, int64_t m, const F& f) {
    if constexpr (R > 0) {
        if (left == R)
            f(std::integral_constant<int, R>{}, m);
        else
            tail_tile<R - 1>(left, m, f);
    }
}

template <int Rows, class F>
void row_tiles(int64_t rows, const F& f) {
    int64_t m = 0;
    for (; m + Rows <= rows; m += Rows) f(std::integral_constant<int, Rows>{}, m);
    tail_tile<Rows - 1>(rows - m, m, f);
}

// Where a tile's weights are: vector v of a unit at w + v * vec_offset, the next unit step further.
struct Panels {
    int64_t vec_offset, step;
};

// Rows x Vecs tile of int32 accumulators, int16 A in units of 2 values.
template <class Ops, int Rows, int Vecs>
void tile_s16(const int16_t* a, int64_t lda, int32_t segments, int64_t stride, int64_t units, const int16_t* w,
              Panels p, int32_t* c, int64_t ldc) {
    using V = typename Ops::V;
    V acc[Rows][Vecs];
    for (int r = 0; r < Rows; ++r)
        for (int v = 0; v < Vecs; ++v) acc[r][v] = Ops::zero();
    for (int32_t seg = 0; seg < segments; ++seg) {
        const int16_t* x = a + seg * stride;
        for (int64_t u = 0; u < units; ++u, x += 2, w += p.step) {
            V wv[Vecs];
            for (int v = 0; v < Vecs; ++v) wv[v] = Ops::load(w + v * p.vec_offset);
            for (int r = 0; r < Rows; ++r) {
                const V xv = Ops::broadcast32(x + r * lda);
                for (int v = 0; v < Vecs; ++v) acc[r][v] = Ops::dot_s16(acc[r][v], xv, wv[v]);
            }
        }
    }
    for (int r = 0; r < Rows; ++r)
        for (int v = 0; v < Vecs; ++v) Ops::store(c + r * ldc + v * Ops::kLanes, acc[r][v]);
}

// Rows x Vecs tile, uint8 A in quads. Without VNNI, vpmaddubsw sums pairs of products into int16
// lanes `group` quads at a time (never overflowing, see plan.cpp) before widening to int32.
template <class Ops, int Rows, int Vecs>
__attribute__((noinline)) void tile_u8(const uint8_t* a, int64_t lda, int32_t segments, int64_t stride, int64_t units, const int8_t* w,
             Panels p, int32_t group, int32_t* c, int64_t ldc) {
    using V = typename Ops::V;
    V acc[Rows][Vecs];
    for (int r = 0; r < Rows; ++r)
        for (int v = 0; v < Vecs; ++v) acc[r][v] = Ops::zero();
    for (int32_t seg = 0; seg < segments; ++seg) {
        const uint8_t* x = a + seg * stride;
        if constexpr (Ops::kInt16Sums) {
            for (int64_t u0 = 0; u0 < units; u0 += group) {
                const int64_t u1 = u0 + group < units ? u0 + group : units;
                typename Ops::S sum[Rows][Vecs];
                for (int r = 0; r < Rows; ++r)
                    for (int v = 0; v < Vecs; ++v) sum[r][v] = typename Ops::S{};
                for (int64_t u = u0; u < u1; ++u, x += 4, w += p.step) {
                    V wv[Vecs];
                    for (int v = 0; v < Vecs; ++v) wv[v] = Ops::load(w + v * p.vec_offset);
                    for (int r = 0; r < Rows; ++r) {
                        const V xv = Ops::broadcast32(x + r * lda);
                        for (int v = 0; v < Vecs; ++v) sum[r][v] = Ops::sum_u8(sum[r][v], xv, wv[v]);
                    }
                }
                for (int r = 0; r < Rows; ++r)
                    for (int v = 0; v < Vecs; ++v) acc[r][v] = Ops::widen(acc[r][v], sum[r][v]);
            }
        } else {
            for (int64_t u = 0; u < units; ++u, x += 4, w += p.step) {
                V wv[Vecs];
                for (int v = 0; v < Vecs; ++v) wv[v] = Ops::load(w + v * p.vec_offset);
                for (int r = 0; r < Rows; ++r) {
                    const V xv = Ops::broadcast32(x + r * lda);
                    for (int v = 0; v < Vecs; ++v) acc[r][v] = Ops::dot_u8(acc[r][v], xv, wv[v]);
                }
            }
        }
    }
    for (int r = 0; r < Rows; ++r)
        for (int v = 0; v < Vecs; ++v) Ops::store(c + r * ldc + v * Ops::kLanes, acc[r][v]);
}

// The panels (plan.hpp) of filters_padded filters, each against every row (a column's weights stay
// in L1 while the rows pass): two(w, p, c) runs two vectors of Full, one(...) one vector of a
// 16-lane Full, half(...) the last 8-filter panel.
template <class Full, class T, class Tile2, class Tile1, class TileH>
void panels(int32_t filters_padded, int64_t panel_size, int unit, const T* packed, int32_t* c, const Tile2& two,
            const Tile1& one, const TileH& half) {
    for (int32_t f = 0; f < filters_padded;) {
        const T* w = packed + f / kPanel * panel_size;
        const int32_t left = filters_padded - f;
        if constexpr (Full::kLanes == 16) {
            if (left >= 2 * kPanel) {
                two(w, Panels{panel_size, kPanel * unit}, c + f);
                f += 2 * kPanel;
                continue;
            }
            if (left >= kPanel) {
                one(w, Panels{0, kPanel * unit}, c + f);
                f += kPanel;
                continue;
            }
        } else if (left >= kPanel) {
            two(w, Panels{kFilterBlock * unit, kPanel * unit}, c + f);
            f += kPanel;
            continue;
        }
        half(w, Panels{0, kFilterBlock * unit}, c + f);
        f += kFilterBlock;
    }
}

template <class Full, class Half, int Rows2, int Rows1, int RowsHalf>
void gemm_s16_t(const int16_t* a, int64_t lda, int64_t rows, int32_t segments, int64_t stride, int64_t units,
                const int16_t* packed, int32_t filters_padded, int32_t* c, int64_t ldc) {
    auto column = [&](auto ops, auto rows_c, auto vecs_c) {
        using Ops = decltype(ops);
        return [&, rows](const int16_t* w, Panels p, int32_t* cc) {
            row_tiles<decltype(rows_c)::value>(rows, [&](auto r, int64_t m) {
                tile_s16<Ops, decltype(r)::value, decltype(vecs_c)::value>(a + m * lda, lda, segments, stride,
                                                                          units, w, p, cc + m * ldc, ldc);
            });
        };
    };
    using I = std::integral_constant<int, 1>;
    using II = std::integral_constant<int, 2>;
    panels<Full>(
        filters_padded, int64_t{kPanel} * segments * units * 2, 2, packed, c,
        column(Full{}, std::integral_constant<int, Rows2>{}, II{}),
        column(Full{}, std::integral_constant<int, Rows1>{}, I{}),
        column(Half{}, std::integral_constant<int, RowsHalf>{}, I{}));
}

template <class Full, class Half, int Rows2, int Rows1, int RowsHalf>
void gemm_u8_t(const uint8_t* a, int64_t lda, int64_t rows, int32_t segments, int64_t stride, int64_t units,
               const int8_t* packed, int32_t filters_padded, int32_t group, int32_t* c, int64_t ldc) {
    auto column = [&](auto ops, auto rows_c, auto vecs_c) {
        using Ops = decltype(ops);
        return [&, rows](const int8_t* w, Panels p, int32_t* cc) {
            row_tiles<decltype(rows_c)::value>(rows, [&](auto r, int64_t m) {
                tile_u8<Ops, decltype(r)::value, decltype(vecs_c)::value>(a + m * lda, lda, segments, stride,
                                                                         units, w, p, group, cc + m * ldc, ldc);
            });
        };
    };
    using I = std::integral_constant<int, 1>;
    using II = std::integral_constant<int, 2>;
    panels<Full>(
        filters_padded, int64_t{kPanel} * segments * units * 4, 4, packed, c,
        column(Full{}, std::integral_constant<int, Rows2>{}, II{}),
        column(Full{}, std::integral_constant<int, Rows1>{}, I{}),
        column(Half{}, std::integral_constant<int, RowsHalf>{}, I{}));
}

}  // namespace

}  // namespace akq
