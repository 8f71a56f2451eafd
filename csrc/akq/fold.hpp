// Batch-normalization folding (docs/spec B.2 step 4), in float32 exactly as the reference does it.
//
// A BatchNormalization after a neural layer computes g * (y - mean) + beta with the per-channel scale
// g = gamma / sqrt(variance + epsilon). Folding it gives kernel * g (on the output-channel axis) and the
// bias beta + (bias - mean) * g. akq also folds g into the fire parameters instead of the kernel for
// per-tensor quantized layers (see threshold.hpp), so the three steps are separate functions.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace akq {

// g = gamma / sqrt(variance + float32(epsilon)), one value per channel, float32 arithmetic.
std::vector<float> batchnorm_scale(const std::vector<float>& gamma, const std::vector<float>& variance,
                                   double epsilon);

// kernel[..., f] * g[f] in place; `kernel` is row-major with the output channels on the last axis.
void scale_output_channels(float* kernel, size_t size, const std::vector<float>& g);

// beta + (bias - mean) * g per channel; an empty `bias` means the layer had none (0).
std::vector<float> fold_bias(const std::vector<float>& bias, const std::vector<float>& beta,
                             const std::vector<float>& mean, const std::vector<float>& g);

// weights[..., f] = -weights[..., f] for every channel f with g[f] < 0 (int8 weights, symmetric range:
// negating a channel of a symmetric quantizer's output is exact). Used when a negative BN scale stays
// out of a per-tensor quantized kernel.
void negate_negative_channels(int8_t* weights, size_t size, const std::vector<float>& g);

}  // namespace akq
