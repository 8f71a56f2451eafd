// Batch-normalization folding: each operation is one float32 rounding, as in the reference.
#include "akq/fold.hpp"

#include <cmath>
#include <cstdint>
#include <string>

#include "akq/error.hpp"

namespace akq {

namespace {

void check_channels(size_t got, size_t expected, const char* what) {
    if (got != expected)
        throw Error(ErrorKind::InvalidArgument, std::string(what) + " has " + std::to_string(got) +
                                                    " values, expected one per channel (" +
                                                    std::to_string(expected) + ")");
}

void check_last_axis(size_t size, size_t channels) {
    if (channels == 0 || size % channels != 0)
        throw Error(ErrorKind::InvalidArgument, "a kernel of " + std::to_string(size) +
                                                    " values cannot have " + std::to_string(channels) +
                                                    " output channels on its last axis");
}

}  // namespace

std::vector<float> batchnorm_scale(const std::vector<float>& gamma, const std::vector<float>& variance,
                                   double epsilon) {
    check_channels(variance.size(), gamma.size(), "moving_variance");
    const float eps = static_cast<float>(epsilon);
    std::vector<float> g(gamma.size());
    for (size_t f = 0; f < g.size(); ++f) {
        const float denominator = std::sqrt(variance[f] + eps);
        g[f] = gamma[f] / denominator;
    }
    return g;
}

void scale_output_channels(float* kernel, size_t size, const std::vector<float>& g) {
    const size_t channels = g.size();
    check_last_axis(size, channels);
    for (size_t i = 0; i < size; i += channels)
        for (size_t f = 0; f < channels; ++f) kernel[i + f] *= g[f];
}

std::vector<float> fold_bias(const std::vector<float>& bias, const std::vector<float>& beta,
                             const std::vector<float>& mean, const std::vector<float>& g) {
    check_channels(beta.size(), g.size(), "beta");
    check_channels(mean.size(), g.size(), "moving_mean");
    if (!bias.empty()) check_channels(bias.size(), g.size(), "bias");
    std::vector<float> folded(g.size());
    for (size_t f = 0; f < g.size(); ++f) {
        const float centred = (bias.empty() ? 0.0f : bias[f]) - mean[f];
        const float scaled = centred * g[f];  // two roundings: no fused multiply-add
        folded[f] = beta[f] + scaled;
    }
    return folded;
}

void negate_negative_channels(int8_t* weights, size_t size, const std::vector<float>& g) {
    const size_t channels = g.size();
    check_last_axis(size, channels);
    for (size_t i = 0; i < size; i += channels)
        for (size_t f = 0; f < channels; ++f)
            if (g[f] < 0.0f) {
                if (weights[i + f] == INT8_MIN)
                    throw Error(ErrorKind::InvalidArgument, "weight -128 has no int8 opposite; a symmetric "
                                                            "quantizer never produces it");
                weights[i + f] = static_cast<int8_t>(-weights[i + f]);
            }
}

}  // namespace akq
