// The hot loops, one implementation per instruction set, chosen at run time (simd.cpp). Every
// implementation is exact integer arithmetic and gives bit-identical results.
#pragma once
#include <cstdint>
#include <string>

#include "akq/simd.hpp"

namespace akq {

// A max pool over (out0, out1) potentials rows ld apart, F filters (docs/spec C.4).
struct PoolGeometry {
    int32_t out0, out1, q0, q1, r0, r1, pad0, pad1, pool0, pool1;
    int64_t ld, filters;
};

// The matrix products read A in place (implicit im2col): row m of A is `segments` runs of values,
// run s starting at a + m * lda + s * segment_stride; B is packed by pack_weights() for the same
// segments and unit (in panels, plan.hpp); C rows are ldc apart and filters_padded wide. Sums wrap
// in int32.
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
    // the number of non-zero outputs; row_events, unless null, receives each row's number.
    int64_t (*activate)(const int32_t* p, int64_t rows, int64_t ld, int64_t filters, const int32_t* threshold,
                        const uint32_t* step16, const uint32_t* magic, const uint32_t* shift, int32_t bits,
                        uint8_t* out, int32_t* row_events);
    // Depthwise convolution at `positions` output positions whose windows start `step` bytes apart,
    // when every partial sum fits int16 (plan.cpp): out[p * ld + c] = sum over a < k0, b < k1 of
    // w[a][b][c] * origin[p * step + a * row_stride + b * C + c], c < C. `pairs` holds the same
    // weights as pack_depthwise_pairs() lays them out. Returns the number of non-zero sums.
    int64_t (*depthwise16)(const uint8_t* origin, int64_t row_stride, int64_t step, int64_t positions, int32_t k0,
                           int32_t k1, int32_t channels, const int16_t* w, const int8_t* pairs, int16_t* out,
                           int64_t ld);
    // Number of non-zero bytes.
    int64_t (*count_nonzero)(const uint8_t* x, int64_t n);
    // Events of `cells` cells of C bytes, and *ops += sum over events of fanout[cell].
    int64_t (*count_events)(const uint8_t* x, int64_t cells, int64_t channels, const int64_t* fanout, int64_t* ops);
    // TF max pooling (padded cells never win) then clamp20, into pooled (pool0, pool1, F).
    void (*max_pool)(const int32_t* potentials, const PoolGeometry& g, int32_t* pooled);
    // Global "average" pooling (docs/spec C.5): pooled[f] = the sum over `positions` rows (ld apart) in
    // row-major order, with a saturating 20-bit accumulator.
    void (*global_sum)(const int32_t* potentials, int64_t positions, int64_t ld, int64_t filters, int32_t* pooled);
};

// The kernels of the family the engine runs: the requested family (akq/simd.hpp) once it passed its
// self-check, else the best lower one that did (with a warning on stderr, see simd_fallback_note).
const Kernels& kernels();
SimdLevel simd_level();
// Empty, or why the engine runs a lower family than requested.
std::string simd_fallback_note();

// The known-answer self-check: `candidate` gives the scalar kernels' results on a built-in set of
// products, depthwise sums, activations, counts and pools.
bool kernels_agree(const Kernels& candidate);
// The family to run for `requested`: the best one not above it for which passes(level) holds.
SimdLevel fall_back(SimdLevel requested, bool (*passes)(SimdLevel));

// Each family's kernels; nullptr when this build has none for it (or not an x86 build).
const Kernels& scalar_kernels();
const Kernels* avx2_kernels();
const Kernels* avx_vnni_kernels();
const Kernels* avx512_kernels();
const Kernels* avx512_vnni_kernels();
const Kernels* family_kernels(SimdLevel level);

}  // namespace akq
