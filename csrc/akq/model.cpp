// Layer-construction rules of the software reference (docs/spec C.1, C.3, C.4, C.8): one place, used by
// hand-built models, conversion, the engine and the .akq reader alike.
#include "akq/model.hpp"

#include <cmath>
#include <sstream>
#include <unordered_set>

#include "akq/arithmetic.hpp"
#include "akq/engine/learning.hpp"
#include "akq/error.hpp"

namespace akq {

namespace {

[[noreturn]] void fail(const LayerSpec& l, const std::string& rule) {
    throw Error(ErrorKind::InvalidArgument, "layer '" + l.name + "': " + rule);
}

std::string dims_str(const std::array<int32_t, 3>& d) {
    std::ostringstream s;
    s << "(" << d[0] << ", " << d[1] << ", " << d[2] << ")";
    return s.str();
}

// Size limits that keep every index and element count far from integer overflow.
constexpr int32_t kMaxAxis = 65536;                   // any input/kernel/pool dimension, filters
constexpr int64_t kMaxValues = int64_t{1} << 28;      // values of a layer's input or output
constexpr int64_t kMaxWeights = int64_t{1} << 30;     // int8 weights of one variable

bool is_input_layer(LayerType t) { return t == LayerType::InputData || t == LayerType::InputConvolutional; }

int32_t conv_out(int32_t d, int32_t k, int32_t s, Padding p) {
    if (p == Padding::Same) return (d + s - 1) / s;
    return d < k ? 0 : (d - k) / s + 1;  // floor, not truncation toward zero, when the kernel is larger
}

void check_weight_range(const LayerSpec& l, const Int8Tensor& w, const char* var) {
    // Weight values each bitwidth can hold (docs/spec C.1): 1 bit is {0, 1}, b bits [-(2^(b-1)-1), 2^(b-1)-1],
    // except 8 bits which takes the whole int8 range.
    int lo, hi;
    if (l.weights_bits == 1) {
        lo = 0, hi = 1;
    } else if (l.weights_bits >= 8) {
        lo = -128, hi = 127;
    } else {
        hi = (1 << (l.weights_bits - 1)) - 1;
        lo = -hi;
    }
    for (int8_t v : w.data)
        if (v < lo || v > hi)
            fail(l, std::string(var) + " value " + std::to_string(v) + " is outside [" + std::to_string(lo) + ", " +
                        std::to_string(hi) + "] allowed by weights_bits=" + std::to_string(l.weights_bits));
}

void check_shape(const LayerSpec& l, const Int8Tensor& w, const std::array<int32_t, 4>& expected, const char* var) {
    if (w.shape != expected || w.data.size() != static_cast<size_t>(expected[0]) * expected[1] * expected[2] * expected[3]) {
        std::ostringstream s;
        s << var << " has shape (" << w.shape[0] << ", " << w.shape[1] << ", " << w.shape[2] << ", " << w.shape[3]
          << "), expected (" << expected[0] << ", " << expected[1] << ", " << expected[2] << ", " << expected[3] << ")";
        fail(l, s.str());
    }
}

void check_empty(const LayerSpec& l, const Int8Tensor& w, const char* var) {
    if (!w.data.empty() || w.shape != std::array<int32_t, 4>{0, 0, 0, 0})
        fail(l, std::string("a ") + (l.type == LayerType::InputData ? "InputData" : "non-separable") +
                    " layer has no variable " + var + "; it must be empty");
}

// Output values and weight counts of a layer whose parameters passed the other rules.
void check_sizes(const LayerSpec& l) {
    const auto out = output_dims(l);
    if (static_cast<int64_t>(out[0]) * out[1] * out[2] > kMaxValues)
        fail(l, "output dimensions " + dims_str(out) + " are too large (at most 2^28 values)");
    const auto w = expected_weights_shape(l);
    if (static_cast<int64_t>(w[0]) * w[1] * w[2] * w[3] > kMaxWeights)
        fail(l, "it would need more than 2^30 weights; use fewer filters, inputs or a smaller kernel");
}

}  // namespace

std::array<int32_t, 4> expected_weights_shape(const LayerSpec& l) {
    const auto& in = l.input_dims;
    switch (l.type) {
        case LayerType::InputData: return {0, 0, 0, 0};
        case LayerType::FullyConnected: return {1, 1, in[0] * in[1] * in[2], l.filters};
        case LayerType::SeparableConvolutional: return {l.kernel_size[0], l.kernel_size[1], in[2], 1};
        default: return {l.kernel_size[0], l.kernel_size[1], in[2], l.filters};
    }
}

std::array<int32_t, 2> conv_output_size(const LayerSpec& l) {
    if (l.type == LayerType::InputData) return {l.input_dims[0], l.input_dims[1]};
    if (l.type == LayerType::FullyConnected) return {1, 1};
    return {conv_out(l.input_dims[0], l.kernel_size[0], l.kernel_stride[0], l.padding),
            conv_out(l.input_dims[1], l.kernel_size[1], l.kernel_stride[1], l.padding)};
}

std::array<int32_t, 2> effective_pool_stride(const LayerSpec& l) {
    return {l.pool_stride[0] > 0 ? l.pool_stride[0] : l.pool_size[0],
            l.pool_stride[1] > 0 ? l.pool_stride[1] : l.pool_size[1]};
}

void check_layer_parameters(const LayerSpec& l) {
    const auto& in = l.input_dims;
    if (in[0] <= 0 || in[1] <= 0 || in[2] <= 0) fail(l, "input dimensions " + dims_str(in) + " must be positive");
    if (in[0] > kMaxAxis || in[1] > kMaxAxis || in[2] > kMaxAxis ||
        static_cast<int64_t>(in[0]) * in[1] * in[2] > kMaxValues)
        fail(l, "input dimensions " + dims_str(in) + " are too large (at most 65536 per axis and 2^28 values)");
    if (l.type == LayerType::InputData) {
        if (l.input_bits < 1 || l.input_bits > 8) fail(l, "input_bits must be between 1 and 8");
        return;
    }
    if (l.filters <= 0 || l.filters > 65536)
        fail(l, "the number of filters/units must be between 1 and 65536, got " + std::to_string(l.filters));
    const int wb = l.weights_bits;
    if (l.type == LayerType::InputConvolutional) {
        if (wb < 1 || wb > 8) fail(l, "weights_bits must be between 1 and 8, got " + std::to_string(wb));
    } else if (wb != 1 && wb != 2 && wb != 4 && wb != 8) {
        fail(l, "weights_bits must be 1, 2, 4 or 8, got " + std::to_string(wb));
    }
    if (l.act_bits != 1 && l.act_bits != 2 && l.act_bits != 4)
        fail(l, "act_bits must be 1, 2 or 4, got " + std::to_string(l.act_bits));
    if (l.type == LayerType::FullyConnected) {
        if (l.pool_type != PoolType::NoPooling) fail(l, "a FullyConnected layer cannot pool");
        check_sizes(l);
        return;
    }
    for (int a = 0; a < 2; ++a) {
        if (l.kernel_size[a] > kMaxAxis || l.kernel_stride[a] > kMaxAxis ||
            (l.pool_type == PoolType::Max && (l.pool_size[a] > kMaxAxis || l.pool_stride[a] > kMaxAxis)))
            fail(l, "kernel and pool sizes and strides must be at most " + std::to_string(kMaxAxis));
        if (l.kernel_size[a] <= 0 || l.kernel_size[a] % 2 == 0)
            fail(l, "kernel_size " + std::to_string(l.kernel_size[a]) + " must be strictly positive and odd");
        if (l.kernel_stride[a] <= 0) fail(l, "kernel_stride must be strictly positive");
        if (l.kernel_stride[a] > l.kernel_size[a] && l.type != LayerType::InputConvolutional)
            fail(l, "a kernel_stride larger than the kernel is only supported on an InputConvolutional layer");
    }
    const auto out = conv_output_size(l);
    if (out[0] <= 0 || out[1] <= 0)
        fail(l, "the kernel " + std::to_string(l.kernel_size[0]) + "x" + std::to_string(l.kernel_size[1]) +
                    " is larger than the 'valid'-padded input " + dims_str(in));
    if (l.pool_type == PoolType::Average) {
        if (l.pool_size[0] > 0 || l.pool_size[1] > 0 || l.pool_stride[0] > 0 || l.pool_stride[1] > 0)
            fail(l, "average pooling is always global: pool_size and pool_stride must be -1");
    } else if (l.pool_type == PoolType::Max) {
        const auto stride = effective_pool_stride(l);
        for (int a = 0; a < 2; ++a) {
            if (l.pool_size[a] <= 0) fail(l, "max pooling needs a positive pool_size");
            if (stride[a] > l.pool_size[a]) fail(l, "pool_stride cannot be larger than pool_size");
        }
        if (l.padding == Padding::Valid && (l.pool_size[0] > out[0] || l.pool_size[1] > out[1]))
            fail(l, "the pool is larger than the 'valid' convolution output");
    }
    check_sizes(l);
}

std::array<int32_t, 3> output_dims(const LayerSpec& l) {
    if (l.type == LayerType::InputData) return l.input_dims;
    if (l.type == LayerType::FullyConnected) return {1, 1, l.filters};
    const auto out = conv_output_size(l);
    if (l.pool_type == PoolType::Average) return {1, 1, l.filters};
    if (l.pool_type == PoolType::Max) {
        const auto r = effective_pool_stride(l);
        std::array<int32_t, 3> pooled{0, 0, l.filters};
        for (int a = 0; a < 2; ++a)
            pooled[a] = conv_out(out[a], l.pool_size[a], r[a], l.padding);
        return pooled;
    }
    return {out[0], out[1], l.filters};
}

void check_variables(const LayerSpec& l) {
    if (l.type == LayerType::InputData) {
        if (!l.threshold_learning.empty() || !l.thswap.empty()) fail(l, "an InputData layer has no learning state");
        check_empty(l, l.weights, "weights");
        check_empty(l, l.weights_pw, "weights_pw");
        if (!l.threshold.empty() || !l.act_step.empty()) fail(l, "an InputData layer has no threshold or act_step");
        return;
    }
    if (l.type != LayerType::SeparableConvolutional) check_empty(l, l.weights_pw, "weights_pw");
    check_shape(l, l.weights, expected_weights_shape(l), "weights");
    check_weight_range(l, l.weights, "weights");
    if (l.type == LayerType::SeparableConvolutional) {
        check_shape(l, l.weights_pw, {1, 1, l.input_dims[2], l.filters}, "weights_pw");
        check_weight_range(l, l.weights_pw, "weights_pw");
    }
    const size_t f = static_cast<size_t>(l.filters);
    if (l.threshold.size() != f)
        fail(l, "threshold has " + std::to_string(l.threshold.size()) + " values, expected " + std::to_string(f));
    if (l.act_step.size() != f)
        fail(l, "act_step has " + std::to_string(l.act_step.size()) + " values, expected " + std::to_string(f));
    for (float s : l.act_step)
        if (!std::isfinite(s) || s < 1.0f / arithmetic::kStepScale)
            fail(l, "act_step " + std::to_string(s) + " is not supported: it must be finite and at least 1/16");
    if (!l.threshold_learning.empty() && l.threshold_learning.size() != f)
        fail(l, "threshold_learning has " + std::to_string(l.threshold_learning.size()) + " values, expected " +
                    std::to_string(f));
    if (l.thswap.size() != l.threshold_learning.size())
        fail(l, "thswap has " + std::to_string(l.thswap.size()) + " values, expected " +
                    std::to_string(l.threshold_learning.size()) + " (as many as threshold_learning)");
}

void check_model(const ModelSpec& m) {
    if (m.layers.empty()) throw Error(ErrorKind::InvalidArgument, "the model has no layers");
    std::unordered_set<std::string> names;
    for (size_t i = 0; i < m.layers.size(); ++i) {
        const LayerSpec& l = m.layers[i];
        if (!names.insert(l.name).second) fail(l, "two layers have this name; names must be unique");
        if ((i == 0) != is_input_layer(l.type))
            fail(l, i == 0 ? "the first layer must be InputData or InputConvolutional"
                           : "InputData and InputConvolutional can only be the first layer");
        check_layer_parameters(l);
        if (l.output_dims != output_dims(l))
            fail(l, "output dimensions " + dims_str(l.output_dims) + " do not follow from the parameters (expected " +
                        dims_str(output_dims(l)) + ")");
        if (i > 0) {
            const LayerSpec& prev = m.layers[i - 1];
            if (l.input_dims != prev.output_dims)
                fail(l, "input dimensions " + dims_str(l.input_dims) + " differ from the output " +
                            dims_str(prev.output_dims) + " of the previous layer '" + prev.name + "'");
            if (!prev.activation)
                fail(l, "it follows layer '" + prev.name + "', which has no activation; only the last layer may omit it");
            if (prev.type == LayerType::InputData && prev.input_bits > 4)
                fail(l, "it cannot follow an input of more than 4 bits (InputData input_bits=" +
                            std::to_string(prev.input_bits) + ")");
        }
        check_variables(l);
        if (!l.thswap.empty() && (i + 1 != m.layers.size() || !m.learning))
            fail(l, "it holds learning state (threshold_learning, thswap) but is not the compiled last layer");
    }
    if (m.learning) check_learning(m);
}

}  // namespace akq
