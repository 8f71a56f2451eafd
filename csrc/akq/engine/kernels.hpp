// The hot loops, one implementation per instruction set, chosen at run time (simd.cpp). Every
// implementation is exact integer arithmetic and gives bit-identical results.
#pragma once
#include <cstdint>
#include <string>

namespace akq {

enum class SimdLevel { Scalar = 0, Avx2 = 1 };

struct Kernels {
    // C[m][f] = sum_k A[m][k] * B[k][f] for m < rows, f < filters_padded, in wrapping int32.
    // A rows hold 2*depth_pairs int16 values (lda apart); B is packed by pack_weights(); C rows are
    // ldc apart and filters_padded wide.
    void (*gemm_s16)(const int16_t* a, int64_t lda, int64_t rows, int64_t depth_pairs, const int16_t* packed,
                     int32_t filters_padded, int32_t* c, int64_t ldc);
    // out[c] = sum over the taps t < taps of w[t][c] * x[t][c] for c < channels: the depthwise
    // convolution of one output position; x[t] points at the input cell of tap t (nullptr = padding).
    void (*depthwise)(const uint8_t* const* x, const int16_t* const* w, int32_t taps, int32_t channels,
                      int32_t* out);
    // Number of non-zero bytes.
    int64_t (*count_nonzero)(const uint8_t* x, int64_t n);
};

const Kernels& kernels();              // for the current level
SimdLevel simd_level();
SimdLevel best_simd_level();           // what this CPU supports
// Sets the level ("scalar", "avx2" or "auto"); throws Error(InvalidArgument) if the CPU lacks it.
void set_simd_level(const std::string& name);
std::string simd_level_name(SimdLevel level);

const Kernels& scalar_kernels();
const Kernels& avx2_kernels();

}  // namespace akq
