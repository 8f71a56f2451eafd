// The quantize loops, written once as always-inlined bodies and instantiated for the portable
// baseline, AVX2 and AVX-512, chosen by the engine's SIMD family (akq/simd.hpp). Built with -ffp-contract=off (CMakeLists.txt): w * sf must stay a rounded
// float32 product, never part of a fused multiply-add.
#include "akq/quantize_loops.hpp"

#include <cfloat>
#include <cmath>
#include <cstring>

#if defined(__GNUC__) && defined(__x86_64__)
#define AKQ_QUANTIZE_X86 1
#define AKQ_TARGET_AVX2 __attribute__((target("avx2")))
#if defined(AKQ_EMULATE_SIMD)
#define AKQ_TARGET_AVX512 AKQ_TARGET_AVX2  // a test build, whose AVX-512 families are emulated (engine/isa.hpp)
#else
#define AKQ_TARGET_AVX512 __attribute__((target("avx2,avx512f,avx512bw,avx512vl")))
#endif
#endif

#define AKQ_INLINE inline __attribute__((always_inline))

namespace akq::quantize_loops {
namespace {

// 1.5 * 2^23: (x + M) - M rounds x half to even (the default rounding mode) for |x| < 2^22.
constexpr float kRoundMagic = 12582912.0f;

// 0 for a finite x; non-zero (the bits of NaN = x - x) for NaN and infinities. Or-ing these is
// cheaper than comparing, and integer ors vectorise in any order.
AKQ_INLINE uint32_t non_finite_bits(float x) {
    const float zero_if_finite = x - x;
    uint32_t bits;
    std::memcpy(&bits, &zero_if_finite, sizeof bits);
    return bits;
}

// clip(rne(q), -kmax, kmax) for an integer kmax < 2^22. Clipping first is equivalent and keeps the
// rounding trick in range; NaN clips to -kmax (never converted). A zero result is +0, as the
// reference quantizer's straight-through round q + (round(q) - q) gives (tf.round alone gives -0).
AKQ_INLINE float clip_round(float q, float kmax) {
    q = q > -kmax ? q : -kmax;
    q = q < kmax ? q : kmax;
    return (q + kRoundMagic) - kRoundMagic;
}

// |x| for a finite x, +infinity for NaN and infinities.
AKQ_INLINE float abs_or_inf(float x) {
    const float a = std::fabs(x);
    return a <= FLT_MAX ? a : INFINITY;
}

AKQ_INLINE float max_of(float a, float b) { return a < b ? b : a; }

// Column maxima over four rows at a time (rows `stride` apart): a quarter of the accumulator traffic.
AKQ_INLINE void abs_max_rows4(const float* __restrict w, std::size_t stride, std::size_t n, float* __restrict acc) {
    for (std::size_t j = 0; j < n; ++j) {
        const float m01 = max_of(abs_or_inf(w[j]), abs_or_inf(w[stride + j]));
        const float m23 = max_of(abs_or_inf(w[2 * stride + j]), abs_or_inf(w[3 * stride + j]));
        acc[j] = max_of(acc[j], max_of(m01, m23));
    }
}

AKQ_INLINE void abs_max_row(const float* __restrict w, std::size_t n, float* __restrict acc) {
    for (std::size_t j = 0; j < n; ++j) acc[j] = max_of(acc[j], abs_or_inf(w[j]));
}

AKQ_INLINE uint32_t int8_row(const float* __restrict w, const float* __restrict sf, std::size_t n, float kmax,
                             int8_t* __restrict out) {
    uint32_t bad = 0;
    for (std::size_t j = 0; j < n; ++j) {
        bad |= non_finite_bits(w[j]);
        out[j] = static_cast<int8_t>(static_cast<int32_t>(clip_round(w[j] * sf[j], kmax)));
    }
    return bad;
}

AKQ_INLINE void column_abs_max_body(const float* w, std::size_t size, std::size_t width, float* acc) {
    const std::size_t rows = size / width;
    std::size_t r = 0;
    for (; r + 4 <= rows; r += 4) abs_max_rows4(w + r * width, width, width, acc);
    for (; r < rows; ++r) abs_max_row(w + r * width, width, acc);
    abs_max_row(w + rows * width, size % width, acc);
}

// Every row of `width` values (scale factor j for column j), then the partial last row; false if a
// weight was not finite.
AKQ_INLINE bool to_int8_body(const float* w, std::size_t size, const float* sf, std::size_t width, float kmax,
                             int8_t* out) {
    const std::size_t rows = size / width;
    uint32_t bad = 0;
    for (std::size_t r = 0; r < rows; ++r) bad |= int8_row(w + r * width, sf, width, kmax, out + r * width);
    bad |= int8_row(w + rows * width, sf, size % width, kmax, out + rows * width);
    return bad == 0;
}

// The loops of one build, compiled for `target` (empty: the portable baseline).
#define AKQ_LOOPS(name, target)                                                                                  \
    target void column_abs_max_##name(const float* w, std::size_t size, std::size_t width, float* acc) {          \
        column_abs_max_body(w, size, width, acc);                                                                \
    }                                                                                                            \
    target bool to_int8_##name(const float* w, std::size_t size, const float* sf, std::size_t width, float kmax, \
                               int8_t* out) {                                                                    \
        return to_int8_body(w, size, sf, width, kmax, out);                                                      \
    }                                                                                                            \
    const Loops name##_table{#name, column_abs_max_##name, to_int8_##name};

AKQ_LOOPS(portable, )
#ifdef AKQ_QUANTIZE_X86
AKQ_LOOPS(avx2, AKQ_TARGET_AVX2)
AKQ_LOOPS(avx512, AKQ_TARGET_AVX512)
#endif

}  // namespace

const Loops& portable_loops() { return portable_table; }

const Loops* loops_for(SimdLevel level) {
    if (!simd_level_supported(level)) return nullptr;
    if (level == SimdLevel::Scalar) return &portable_table;
#ifdef AKQ_QUANTIZE_X86
    return level >= SimdLevel::Avx512 ? &avx512_table : &avx2_table;
#else
    return nullptr;
#endif
}

const Loops& fastest_loops() {
    const Loops* loops = loops_for(requested_simd_level());
    return loops ? *loops : portable_table;
}

}  // namespace akq::quantize_loops
