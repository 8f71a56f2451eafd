// The hot loops, one implementation per instruction set, chosen at run time (simd.cpp). Every
// implementation is exact integer arithmetic and gives bit-identical results.
#pragma once
#include <cstdint>
#include <string>

namespace akq {

// A max pool over (out0, out1) potentials rows ld apart, F filters (docs/spec C.4).
struct PoolGeometry {
    int32_t out0, out1, q0, q1, r0, r1, pad0, pad1, pool0, pool1;
    int64_t ld, filters;
};

enum class SimdLevel { Scalar = 0, Avx2 = 1 };

// The matrix products read A in place (implicit im2col): row m of A is `segments` runs of values,
// run s starting at a + m * lda + s * segment_stride; B is packed by pack_weights() for the same
// segments and unit; C rows are ldc apart and filters_padded wide. Sums wrap in int32.
struct Kernels {
    // int16 A, units of 2 values (vpmaddwd).
    void (*gemm_s16)(const int16_t* a, int64_t lda, int64_t rows, int32_t segments, int64_t segment_stride,
                     int64_t units, const int16_t* packed, int32_t filters_padded, int32_t* c, int64_t ldc);
    // uint8 A of at most 4-bit values, units of 4 (vpmaddubsw); `group` = units whose products may be
    // summed in int16 lanes (see plan.cpp).
    void (*gemm_u8)(const uint8_t* a, int64_t lda, int64_t rows, int32_t segments, int64_t segment_stride,
                    int64_t units, const int8_t* packed, int32_t filters_padded, int32_t group, int32_t* c,
                    int64_t ldc);
    // Activations of `rows` rows of `filters` potentials (ld apart) into out (filters apart), docs/spec C.6:
    // step16 = floor(16 act_step) mod 2^28 and its reciprocal (magic, shift) from plan.cpp. Returns
    // the number of non-zero outputs.
    int64_t (*activate)(const int32_t* p, int64_t rows, int64_t ld, int64_t filters, const int32_t* threshold,
                        const uint32_t* step16, const uint32_t* magic, const uint32_t* shift, int32_t bits,
                        uint8_t* out);
    // Depthwise convolution at one output position, when every partial sum fits int16 (plan.cpp):
    // out[c] = sum over a < k0, b < k1 of w[a][b][c] * origin[a * row_stride + b * C + c], c < C.
    // Returns the number of non-zero sums.
    int64_t (*depthwise16)(const uint8_t* origin, int64_t row_stride, int32_t k0, int32_t k1, int32_t channels,
                           const int16_t* w, int16_t* out);
    // Number of non-zero bytes.
    int64_t (*count_nonzero)(const uint8_t* x, int64_t n);
    // Events of `cells` cells of C bytes, and *ops += sum over events of fanout[cell].
    int64_t (*count_events)(const uint8_t* x, int64_t cells, int64_t channels, const int64_t* fanout, int64_t* ops);
    // TF max pooling (padded cells never win) then clamp20, into pooled (pool0, pool1, F).
    void (*max_pool)(const int32_t* potentials, const PoolGeometry& g, int32_t* pooled);
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
