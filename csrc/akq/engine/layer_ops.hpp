// The per-sample steps of a layer: potentials (convolution.cpp), then pooling and activation
// (activation.cpp). Internal to the engine.
#pragma once
#include <cstdint>
#include <vector>

#include "akq/arithmetic.hpp"
#include "akq/engine/plan.hpp"

namespace akq {

// Output positions per depthwise tile: bounds the scratch memory of a separable convolution.
constexpr int64_t kTile = 32;

// Per-thread scratch, sized once for the largest layer of a model.
struct Scratch {
    AlignedVector<uint8_t> padded8;   // padded input of a convolution (uint8 kernel, depthwise)
    AlignedVector<int16_t> padded16;  // padded input of an InputConvolutional (int16 kernel)
    AlignedVector<int16_t> patch;     // separable: kTile rows of int16 depthwise sums
    std::vector<int32_t> depthwise;   // separable: C int32 depthwise sums (when beyond int16)
    AlignedVector<uint8_t> patch8;    // FC: the input row, zero padded to whole units
    void reserve_for(const CompiledLayer& layer, int64_t chunk);
};

// Samples are run layer by layer in chunks of up to kChunk, so that a layer's weights are reused
// from cache; a layer whose potentials are small takes the whole chunk in one call.
constexpr int64_t kChunk = 8;
int64_t samples_per_call(const CompiledLayer& layer, int64_t chunk);

// The part of a layer's potentials one thread computes when threads share one sample: rows
// [first_row, end_row) of filters [first_filter, end_filter) (multiples of kPanel but for
// end_filter = filters_padded). The default is all of them.
struct Share {
    int64_t first_row = 0, end_row = -1;        // -1: all rows
    int32_t first_filter = 0, end_filter = -1;  // -1: filters_padded
};

// Potentials of `samples` inputs (`stride` bytes apart): rows = samples * positions() (1 position for
// FC), filters_padded apart. Returns the pointwise synaptic operations of a separable layer
// (non-zero depthwise sums x its filters in the share), else 0.
int64_t compute_potentials(const CompiledLayer& layer, const uint8_t* input, int64_t stride, int64_t samples,
                           int32_t* potentials, Scratch& scratch, Share share = {});

// How threads share one sample of a layer when the batch is smaller than the thread count: by rows
// (output rows of a convolution, positions of a separable layer) while each part keeps at least
// kSharedPositions output positions, else by panels of filters; only layers of at least
// kSharedMacs multiply-accumulates. parts == 1: not shared.
constexpr int64_t kSharedMacs = 1 << 16, kSharedPositions = 8;
struct Sharing {
    bool by_rows = true;
    int64_t parts = 1;
    int64_t count = 0;  // rows, or panels of filters
    int32_t filters_padded = 0;
    Share share(int64_t part) const;
};
Sharing share_layer(const CompiledLayer& layer, int64_t threads);

// Pools (FC: clamps in place) and activates into `activations` (uint8), with each output
// position's number of non-zero outputs in `cell_events` unless null, or writes the pooled
// potentials to `out_potentials` for a last layer without activation. `pooled` is scratch of
// output_size() int32. Returns the number of non-zero outputs.
int64_t finish_layer(const CompiledLayer& layer, int32_t* potentials, int32_t* pooled, uint8_t* activations,
                     int32_t* cell_events, int32_t* out_potentials);

// The same for the rows of a share (all filters) of a convolution without pooling, which is all its
// finish_layer does: threads that share the layer's rows activate their own.
int64_t activate_share(const CompiledLayer& layer, const int32_t* potentials, const Share& share,
                       uint8_t* activations, int32_t* cell_events);

// Internal linkage on purpose: kernels_avx2.cpp (compiled with -mavx2) includes these too, and one
// shared external copy of an inline function could be the AVX2 build that scalar code then calls.
namespace {

// docs/spec C.6: the activation of potential p for threshold th, truncated step step16 (mod 2^28, != 0).
inline uint8_t activate(int32_t p, int32_t th, uint32_t step16, int32_t bits) {
    const int32_t z = static_cast<int32_t>(static_cast<uint32_t>(p) - static_cast<uint32_t>(th));
    if (z <= 0) return 0;
    const uint32_t numerator = static_cast<uint32_t>(((int64_t{z} << bits) - 1) & arithmetic::kNumeratorMask);
    const uint32_t level = numerator / step16 + 1;
    const uint32_t top = (1u << bits) - 1;
    return static_cast<uint8_t>(level < top ? level : top);
}

inline int32_t clamp20(int64_t v) { return arithmetic::saturate20(v); }

// Output positions per row of a Share: an output row of a convolution, one position of a separable layer.
inline int64_t share_row_positions(const CompiledLayer& L) {
    return L.type == LayerType::SeparableConvolutional ? 1 : L.out1;
}

// One step of the global sum (docs/spec C.5): the 20-bit saturating accumulator plus potential p. With
// the accumulator in [-2^19, 2^19), clamping p to [-2^20, 2^20] first changes no result and keeps the
// sum in int32 (|sum| < 2^19 + 2^20), as the vector kernels' lanes do.
inline int32_t global_sum_step(int32_t sum, int32_t p) {
    const int32_t bounded = p < 2 * arithmetic::kPotentialMin   ? 2 * arithmetic::kPotentialMin
                            : p > -2 * arithmetic::kPotentialMin ? -2 * arithmetic::kPotentialMin
                                                                 : p;
    return clamp20(sum + bounded);
}

}  // namespace

}  // namespace akq
