// A layer compiled for the kernels: geometry resolved, weights re-laid out, activation steps
// truncated (docs/spec C.3, C.6). Built once per Engine; read-only while running.
#pragma once
#include <cstdint>
#include <vector>

#include "akq/engine/aligned.hpp"
#include "akq/model.hpp"

namespace akq {

// Filters are padded to blocks of this many int32 lanes (one AVX2 register), and their weights laid
// out in panels of kPanel filters (one AVX-512 register, two AVX2 ones); the last panel has
// kFilterBlock filters when filters_padded is not a multiple of kPanel.
constexpr int kFilterBlock = 8;
constexpr int kPanel = 16;

struct CompiledLayer {
    const LayerSpec* spec = nullptr;
    LayerType type = LayerType::InputData;
    int32_t in0 = 0, in1 = 0, channels = 0;   // input (D0, D1, C)
    int32_t out0 = 0, out1 = 0;               // convolution output before pooling
    int32_t filters = 0, filters_padded = 0;  // F, F rounded up to kFilterBlock
    int32_t k0 = 1, k1 = 1, s0 = 1, s1 = 1, pad0 = 0, pad1 = 0;  // pad = cells added before
    uint8_t pad_value = 0;                    // InputConvolutional: padding_value mod 256

    // Weights are a dense [depth][F] matrix read as `segments` runs of `run` contiguous input values
    // (for a convolution: one run of k1*C values per kernel row, found in the padded input; for FC and
    // the separable pointwise: one run). Each run is rounded up to whole `unit`s (2 values for the
    // int16 kernel, 4 for the uint8 kernel) with zero weights, so a kernel may read past a run.
    // Inputs of at most 4 bits (every layer but InputConvolutional, and not the separable pointwise)
    // use the uint8 x int8 kernel; the others the int16 kernel.
    int64_t depth = 0;
    int32_t segments = 1;
    int64_t run = 0, run_units = 0;
    bool small_inputs = false;
    AlignedVector<int16_t> packed;  // int16 kernel: panels [segments][run_units][16 (or 8) filters][2]
    AlignedVector<int8_t> packed8;  // uint8 kernel: panels [segments][run_units][16 (or 8) filters][4]
    int32_t int16_group = 1;        // quads the uint8 kernel may sum in int16 lanes without overflow

    // Convolutions read a padded copy of the input: (padded0, padded1, C) with the padding values,
    // large enough for every window, plus slack for the kernels' over-read.
    int32_t padded0 = 0, padded1 = 0;
    // (Rounded up to whole cache lines: each sample's copy in a buffer of several starts on one.)
    int64_t padded_size() const { return (int64_t{padded0} * padded1 * channels + 64 + 63) / 64 * 64; }

    // SeparableConvolutional: flipped depthwise weights [k0][k1][C] and whether the depthwise sums
    // provably fit int16 (then the pointwise runs on the int16 kernels, else on exact int32 loops).
    std::vector<int16_t> depthwise;
    AlignedVector<int8_t> depthwise_pairs;  // the same, for vpmaddubsw (pack_depthwise_pairs)
    bool depthwise_fits_int16 = true;
    std::vector<int32_t> pointwise;  // [C][F], used by the int32 path

    // Pooling (docs/spec C.4); pooled output (pool0, pool1) equals the layer's output_dims.
    PoolType pool = PoolType::NoPooling;  // a 1x1 max pool is compiled as NoPooling
    int32_t q0 = 1, q1 = 1, r0 = 1, r1 = 1, pool_pad0 = 0, pool_pad1 = 0, pool0 = 0, pool1 = 0;

    // Activation (docs/spec C.6).
    bool activation = true;
    int32_t act_bits = 1;
    std::vector<int32_t> threshold;
    std::vector<uint32_t> step16;  // floor(16 * act_step) mod 2^28, never 0 when activation
    // floor(n / step16) = (n * magic) >> shift for every n < 2^28 (magic < 2^30, shift <= 56).
    std::vector<uint32_t> magic, shift;

    // InputData: values must be < 2^input_bits.
    int32_t input_bits = 8;

    // Statistics: for each input cell (D0 x D1), the weights one event there touches per channel.
    std::vector<int64_t> fanout;

    int64_t macs = 0;  // multiply-accumulates per sample (depthwise + pointwise for separable)

    int64_t input_size() const { return int64_t{in0} * in1 * channels; }
    int64_t output_size() const;  // pooled outputs per sample
    int64_t positions() const { return int64_t{out0} * out1; }
};

// Compiles one validated layer; throws Error(Engine) for a step the engine cannot divide by.
CompiledLayer compile_layer(const LayerSpec& spec);

// floor(n / d) = (n * magic) >> shift for every n < 2^28 and 0 < d < 2^28.
void reciprocal(uint32_t d, uint32_t& magic, uint32_t& shift);

// Depthwise weights [k0][k1][C] for vpmaddubsw on whole blocks of 32 channels, then one block of 16
// if at least 16 channels are left: per block, per pair of taps (2p, 2p + 1 of the k0*k1 taps in
// row-major order; a missing last tap has weight 0), the weights of each channel as (tap 2p, tap
// 2p + 1): 64 bytes for a 32-block, channels {0..7, 16..23} then {8..15, 24..31} (the lane order of
// vpunpcklbw / vpunpckhbw on ymm), 32 bytes for the 16-block, channels in order.
AlignedVector<int8_t> pack_depthwise_pairs(const std::vector<int16_t>& w, int32_t k0, int32_t k1, int32_t channels);

// Packs a dense [segments * run][F] weight matrix for a kernel reading `unit` values at a time.
template <class T>
AlignedVector<T> pack_weights(const std::vector<int32_t>& dense, int32_t segments, int64_t run, int unit,
                              int32_t filters);

}  // namespace akq
