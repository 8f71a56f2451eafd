// Compiling a layer: TF 'same' padding, flipped kernels, packed int16 weights, truncated steps.
#include "akq/engine/plan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "akq/arithmetic.hpp"
#include "akq/error.hpp"

namespace akq {

namespace {

// Cells TensorFlow's 'same' padding adds before the data (docs/spec C.3); 0 for 'valid'.
int32_t pad_before(int32_t in, int32_t out, int32_t k, int32_t s, Padding padding) {
    if (padding == Padding::Valid) return 0;
    return std::max((out - 1) * s + k - in, 0) / 2;
}

int32_t max_abs(const std::vector<int8_t>& values) {
    int32_t m = 0;
    for (int8_t v : values) m = std::max(m, std::abs(static_cast<int32_t>(v)));
    return m;
}

// How many convolution outputs (before pooling) read input cell (i, j) along one axis.
std::vector<int64_t> coverage(int32_t in, int32_t out, int32_t k, int32_t s, int32_t pad) {
    std::vector<int64_t> count(in, 0);
    for (int32_t o = 0; o < out; ++o)
        for (int32_t a = 0; a < k; ++a) {
            const int32_t i = o * s + a - pad;
            if (i >= 0 && i < in) ++count[i];
        }
    return count;
}

void compile_activation(const LayerSpec& spec, CompiledLayer& c) {
    c.activation = spec.activation;
    c.act_bits = spec.act_bits;
    c.threshold = spec.threshold;
    c.step16.assign(spec.act_step.size(), 0);
    for (size_t f = 0; f < spec.act_step.size(); ++f) {
        // 16 * act_step is exact in double and floor() truncates to the engine's 1/16 fixed point.
        const double s16 = std::floor(arithmetic::kStepScale * static_cast<double>(spec.act_step[f]));
        c.step16[f] = static_cast<uint32_t>(std::fmod(s16, std::ldexp(1.0, arithmetic::kNumeratorBits)));
        if (spec.activation && c.step16[f] == 0)
            throw Error(ErrorKind::Engine,
                        "layer '" + spec.name + "': act_step[" + std::to_string(f) + "] = " +
                            std::to_string(spec.act_step[f]) +
                            " truncates to a step of 16*act_step that is a multiple of 2^28, which the engine's "
                            "28-bit activation cannot divide by (the reference crashes); use an act_step below "
                            "2^24 (e.g. a smaller input scale or activation step)");
    }
    c.magic.assign(c.step16.size(), 0);
    c.shift.assign(c.step16.size(), 0);
    for (size_t f = 0; f < c.step16.size(); ++f)
        reciprocal(std::max<uint32_t>(c.step16[f], 1), c.magic[f], c.shift[f]);
}

void compile_pooling(const LayerSpec& spec, CompiledLayer& c) {
    c.pool = spec.pool_type;
    c.pool0 = spec.output_dims[0];
    c.pool1 = spec.output_dims[1];
    if (spec.pool_type != PoolType::Max) return;
    const auto stride = effective_pool_stride(spec);
    c.q0 = spec.pool_size[0], c.q1 = spec.pool_size[1], c.r0 = stride[0], c.r1 = stride[1];
    c.pool_pad0 = pad_before(c.out0, c.pool0, c.q0, c.r0, spec.padding);
    c.pool_pad1 = pad_before(c.out1, c.pool1, c.q1, c.r1, spec.padding);
    if (c.q0 == 1 && c.q1 == 1) c.pool = PoolType::NoPooling;  // no-op, and no clamp either (docs/spec C.4)
}

}  // namespace

// With k = 28 + ceil(log2 d) and magic = floor(2^k / d) + 1, the error of n * magic / 2^k over
// n / d is below 2^28 / 2^k <= 1 / d, too small to reach the next integer.
void reciprocal(uint32_t d, uint32_t& magic, uint32_t& shift) {
    uint32_t log2_ceil = 0;
    while ((uint64_t{1} << log2_ceil) < d) ++log2_ceil;
    shift = arithmetic::kNumeratorBits + log2_ceil;
    magic = static_cast<uint32_t>((uint64_t{1} << shift) / d + 1);
}

int64_t CompiledLayer::output_size() const {
    if (type == LayerType::InputData) return input_size();
    return int64_t{pool0} * pool1 * filters;
}

template <class T>
AlignedVector<T> pack_weights(const std::vector<int32_t>& dense, int32_t segments, int64_t run, int unit,
                              int32_t filters) {
    const int64_t units = (run + unit - 1) / unit;
    const int32_t padded = (filters + kFilterBlock - 1) / kFilterBlock * kFilterBlock;
    const int64_t panel_size = int64_t{kPanel} * segments * units * unit;
    AlignedVector<T> packed(static_cast<size_t>(padded) * segments * units * unit, 0);
    for (int32_t seg = 0; seg < segments; ++seg)
        for (int64_t r = 0; r < run; ++r)
            for (int32_t f = 0; f < filters; ++f) {
                const int64_t panel = f / kPanel, lane = f % kPanel;
                const int64_t width = std::min<int64_t>(kPanel, padded - panel * kPanel);
                const int64_t unit_index = seg * units + r / unit;
                packed[panel * panel_size + (unit_index * width + lane) * unit + r % unit] =
                    static_cast<T>(dense[(seg * run + r) * filters + f]);
            }
    return packed;
}

AlignedVector<int8_t> pack_depthwise_pairs(const std::vector<int16_t>& w, int32_t k0, int32_t k1, int32_t channels) {
    const int32_t taps = k0 * k1, pairs = (taps + 1) / 2, blocks = channels / 32;
    const bool block16 = channels % 32 >= 16;
    AlignedVector<int8_t> packed(static_cast<size_t>(blocks * 64 + block16 * 32) * pairs, 0);
    auto put = [&](int64_t at, int32_t p, int32_t c) {  // the pair (2p, 2p + 1) of channel c
        for (int32_t j = 0; j < 2 && 2 * p + j < taps; ++j)
            packed[at + j] = static_cast<int8_t>(w[int64_t{2 * p + j} * channels + c]);
    };
    for (int32_t block = 0; block < blocks; ++block)
        for (int32_t p = 0; p < pairs; ++p)
            for (int32_t half = 0; half < 2; ++half)
                for (int32_t lane = 0; lane < 16; ++lane)
                    put(((int64_t{block} * pairs + p) * 2 + half) * 32 + 2 * lane, p,
                        block * 32 + lane % 8 + 8 * half + 16 * (lane / 8));
    if (block16)
        for (int32_t p = 0; p < pairs; ++p)
            for (int32_t lane = 0; lane < 16; ++lane)
                put(int64_t{blocks} * pairs * 64 + p * 32 + 2 * lane, p, blocks * 32 + lane);
    return packed;
}

template AlignedVector<int16_t> pack_weights(const std::vector<int32_t>&, int32_t, int64_t, int, int32_t);
template AlignedVector<int8_t> pack_weights(const std::vector<int32_t>&, int32_t, int64_t, int, int32_t);

namespace {

// Lays out `dense` for the uint8 kernel when the layer's inputs have at most 4 bits (after an
// activation or a <= 4-bit InputData), else for the int16 kernel.
void pack(CompiledLayer& c, const std::vector<int32_t>& dense, int32_t segments, bool small_inputs) {
    c.segments = segments;
    c.run = c.depth / segments;
    c.small_inputs = small_inputs;
    const int unit = small_inputs ? 4 : 2;
    c.run_units = (c.run + unit - 1) / unit;
    if (!small_inputs) {
        c.packed = pack_weights<int16_t>(dense, segments, c.run, unit, c.filters);
        return;
    }
    c.packed8 = pack_weights<int8_t>(dense, segments, c.run, unit, c.filters);
    int32_t largest = 1;
    for (int32_t w : dense) largest = std::max(largest, std::abs(w));
    // Each vpmaddubsw lane adds two products of at most 15 * |w|; int16 lanes hold 32767.
    c.int16_group = std::max(1, 32767 / (2 * 15 * largest));
}

}  // namespace

CompiledLayer compile_layer(const LayerSpec& spec) {
    CompiledLayer c;
    c.spec = &spec;
    c.type = spec.type;
    c.in0 = spec.input_dims[0], c.in1 = spec.input_dims[1], c.channels = spec.input_dims[2];
    if (spec.type == LayerType::InputData) {
        c.input_bits = spec.input_bits;
        c.pool0 = c.in0, c.pool1 = c.in1, c.filters = c.channels;
        return c;
    }
    c.filters = spec.filters;
    c.filters_padded = (c.filters + kFilterBlock - 1) / kFilterBlock * kFilterBlock;
    compile_activation(spec, c);
    const int32_t C = c.channels, F = c.filters;
    const auto& W = spec.weights.data;

    if (spec.type == LayerType::FullyConnected) {
        c.out0 = c.out1 = c.pool0 = c.pool1 = 1;
        c.depth = int64_t{c.in0} * c.in1 * C;
        // The reference flattens with D0 fastest (docs/spec C.2); our input is row-major (D0, D1, C).
        std::vector<int32_t> dense(static_cast<size_t>(c.depth) * F);
        for (int32_t i = 0; i < c.in0; ++i)
            for (int32_t j = 0; j < c.in1; ++j)
                for (int32_t ch = 0; ch < C; ++ch) {
                    const int64_t natural = (int64_t{i} * c.in1 + j) * C + ch;
                    const int64_t reference = (int64_t{ch} * c.in1 + j) * c.in0 + i;
                    for (int32_t f = 0; f < F; ++f) dense[natural * F + f] = W[reference * F + f];
                }
        pack(c, dense, 1, true);
        c.macs = c.depth * F;
        c.fanout.assign(static_cast<size_t>(c.in0) * c.in1, F);
        return c;
    }

    c.k0 = spec.kernel_size[0], c.k1 = spec.kernel_size[1];
    c.s0 = spec.kernel_stride[0], c.s1 = spec.kernel_stride[1];
    const auto out = conv_output_size(spec);
    c.out0 = out[0], c.out1 = out[1];
    c.pad0 = pad_before(c.in0, c.out0, c.k0, c.s0, spec.padding);
    c.pad1 = pad_before(c.in1, c.out1, c.k1, c.s1, spec.padding);
    if (spec.type == LayerType::InputConvolutional)
        c.pad_value = static_cast<uint8_t>(static_cast<uint32_t>(spec.padding_value) & 0xFFu);
    compile_pooling(spec, c);

    // Cross-correlation with W[a][b] for InputConvolutional, true convolution (W flipped) otherwise.
    const bool flip = spec.type != LayerType::InputConvolutional;
    auto tap = [&](int32_t a, int32_t b) {
        return flip ? (int64_t{c.k0 - 1 - a} * c.k1 + (c.k1 - 1 - b)) : (int64_t{a} * c.k1 + b);
    };
    if (spec.type == LayerType::SeparableConvolutional) {
        c.depthwise.resize(static_cast<size_t>(c.k0) * c.k1 * C);
        for (int32_t a = 0; a < c.k0; ++a)
            for (int32_t b = 0; b < c.k1; ++b)
                for (int32_t ch = 0; ch < C; ++ch)
                    c.depthwise[(int64_t{a} * c.k1 + b) * C + ch] = W[tap(a, b) * C + ch];
        c.depthwise_pairs = pack_depthwise_pairs(c.depthwise, c.k0, c.k1, C);
        c.depth = C;
        c.pointwise.assign(spec.weights_pw.data.begin(), spec.weights_pw.data.end());
        // Inputs after an activation are at most 4 bits (docs/spec C.1).
        const int64_t bound = int64_t{c.k0} * c.k1 * 15 * max_abs(W);
        c.depthwise_fits_int16 = bound <= 32767;
        pack(c, c.pointwise, 1, false);
    } else {
        c.depth = int64_t{c.k0} * c.k1 * C;
        std::vector<int32_t> dense(static_cast<size_t>(c.depth) * F);
        for (int32_t a = 0; a < c.k0; ++a)
            for (int32_t b = 0; b < c.k1; ++b)
                for (int32_t ch = 0; ch < C; ++ch)
                    for (int32_t f = 0; f < F; ++f)
                        dense[((int64_t{a} * c.k1 + b) * C + ch) * F + f] = W[(tap(a, b) * C + ch) * F + f];
        pack(c, dense, c.k0, spec.type != LayerType::InputConvolutional);
    }
    // Every window inside the padded input: 'same' adds the cells TF pads after, too.
    c.padded0 = std::max(c.in0 + c.pad0, (c.out0 - 1) * c.s0 + c.k0);
    c.padded1 = std::max(c.in1 + c.pad1, (c.out1 - 1) * c.s1 + c.k1);

    c.macs = c.positions() * (spec.type == LayerType::SeparableConvolutional ? int64_t{c.k0} * c.k1 * C + int64_t{C} * F
                                                                             : c.depth * F);
    const auto cover0 = coverage(c.in0, c.out0, c.k0, c.s0, c.pad0);
    const auto cover1 = coverage(c.in1, c.out1, c.k1, c.s1, c.pad1);
    const int64_t per_cover = spec.type == LayerType::SeparableConvolutional ? 1 : F;
    c.fanout.resize(static_cast<size_t>(c.in0) * c.in1);
    for (int32_t i = 0; i < c.in0; ++i)
        for (int32_t j = 0; j < c.in1; ++j) c.fanout[int64_t{i} * c.in1 + j] = cover0[i] * cover1[j] * per_cover;
    return c;
}

}  // namespace akq
