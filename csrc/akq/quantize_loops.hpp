// The streaming loops under the quantize kernels (internal to csrc/akq).
//
// Each loop is compiled twice from one source: for the portable baseline and, on x86 with GCC or
// Clang, for AVX2 (picked at run time). Both builds do the same IEEE float/double operations in the
// same order (no FMA contraction, no reassociation), so they give bit-identical results.
//
// The loops see a kernel of `size` values as rows of `width` values (the last row may be partial);
// the value at row position j uses the per-column data at index j (accumulator or scale factor).
#pragma once
#include <cstddef>
#include <cstdint>

namespace akq::quantize_loops {

struct Loops {
    const char* name;
    // acc[j] = max(acc[j], |w|) over column j; NaN and infinity count as +infinity.
    void (*column_abs_max)(const float* w, std::size_t size, std::size_t width, float* acc);
    // out = clip(rne(w * sf[j]), -kmax, kmax) as int8; false if some w is not finite.
    bool (*to_int8)(const float* w, std::size_t size, const float* sf, std::size_t width, float kmax,
                    int8_t* out);
};

const Loops& portable_loops();
const Loops* avx2_loops();  // nullptr when the compiler or the CPU has no AVX2
const Loops& fastest_loops();

}  // namespace akq::quantize_loops
