// A layer compiled for the kernels: geometry resolved, weights re-laid out, activation steps
// truncated (SPEC C.3, C.6). Built once per Engine; read-only while running.
#pragma once
#include <cstdint>
#include <vector>

#include "akq/model.hpp"

namespace akq {

// Filters are processed in blocks of this many int32 lanes (one AVX2 register).
constexpr int kFilterBlock = 8;

struct CompiledLayer {
    const LayerSpec* spec = nullptr;
    LayerType type = LayerType::InputData;
    int32_t in0 = 0, in1 = 0, channels = 0;   // input (D0, D1, C)
    int32_t out0 = 0, out1 = 0;               // convolution output before pooling
    int32_t filters = 0, filters_padded = 0;  // F, F rounded up to kFilterBlock
    int32_t k0 = 1, k1 = 1, s0 = 1, s1 = 1, pad0 = 0, pad1 = 0;  // pad = cells added before
    uint8_t pad_value = 0;                    // InputConvolutional: padding_value mod 256

    // Dot products run as int16 pairs: `depth` = values per output (k0*k1*C, C for the separable
    // pointwise, D0*D1*C for FC), `depth_pairs` = ceil(depth / 2).
    int64_t depth = 0, depth_pairs = 0;
    std::vector<int16_t> packed;  // [F/8][depth_pairs][8][2], zero padded (see pack_weights)

    // SeparableConvolutional: flipped depthwise weights [k0][k1][C] and whether the depthwise sums
    // provably fit int16 (then the pointwise runs on the int16 kernels, else on exact int32 loops).
    std::vector<int16_t> depthwise;
    bool depthwise_fits_int16 = true;
    std::vector<int32_t> pointwise;  // [C][F], used by the int32 path

    // Pooling (SPEC C.4); pooled output (pool0, pool1) equals the layer's output_dims.
    PoolType pool = PoolType::NoPooling;  // a 1x1 max pool is compiled as NoPooling
    int32_t q0 = 1, q1 = 1, r0 = 1, r1 = 1, pool_pad0 = 0, pool_pad1 = 0, pool0 = 0, pool1 = 0;

    // Activation (SPEC C.6).
    bool activation = true;
    int32_t act_bits = 1;
    std::vector<int32_t> threshold;
    std::vector<uint32_t> step16;  // floor(16 * act_step) mod 2^28, never 0 when activation

    // InputData: values must be < 2^input_bits.
    int32_t input_bits = 8;

    // Statistics: for each input cell (D0 x D1), the weights one event there touches per channel.
    std::vector<int64_t> fanout;

    int64_t input_size() const { return int64_t{in0} * in1 * channels; }
    int64_t output_size() const;  // pooled outputs per sample
    int64_t positions() const { return int64_t{out0} * out1; }
};

// Compiles one validated layer; throws Error(Engine) for a step the engine cannot divide by.
CompiledLayer compile_layer(const LayerSpec& spec);

// Packs W[k][f] (given by a callback-free dense [depth][F] int32 matrix) as the kernels expect.
std::vector<int16_t> pack_weights(const std::vector<int32_t>& dense, int64_t depth, int32_t filters);

}  // namespace akq
