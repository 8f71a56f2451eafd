// Weight quantization (docs/spec A.1): the scale factors of the Max quantizers (MaxQuantizer,
// MaxPerAxisQuantizer) and the integer weights for a given scale factor, in exactly TensorFlow's
// float32 arithmetic. (The Std quantizers' scale factors stay in TensorFlow: its float32 reduce_std
// cannot be reproduced to the last bit, and conversion must match the reference bit for bit.)
//
// A kernel is a row-major float32 array whose last axis holds the output channels (filters/units).
// All functions refuse non-finite weights, bad scale factors and bitwidths outside [2, 8] with
// akq::Error(ErrorKind::Quantization).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace akq {

// A read-only row-major float32 kernel of `size` values whose last axis has `channels` values.
struct KernelView {
    const float* data = nullptr;
    std::size_t size = 0;
    std::size_t channels = 0;
};

// Limits of the built-in quantizers.
constexpr int kMinWeightBits = 2;
constexpr int kMaxWeightBits = 8;
constexpr float kScaleFactorMax = 1000.0f;  // sf is clipped to [0, kScaleFactorMax] (all quantizers)
constexpr float kRangeMin = 1e-10f;         // ranges are clamped to [kRangeMin, FLT_MAX]

// kmax = 2^(bitwidth-1) - 1, the largest integer weight; refuses bitwidths outside [2, 8].
int32_t weight_kmax(int bitwidth);

// Scale factors sf = clip(kmax / max |w|, 0, 1000) in float32: one value (per_axis false) or one per
// channel (per_axis true). The range is clamped to [kRangeMin, FLT_MAX]; the clamp changes nothing
// where the reference's sf is non-zero (see the .cpp).
std::vector<float> max_scale_factors(KernelView w, bool per_axis, int bitwidth);

// A scale factor: one value for the whole kernel, or one per channel.
struct ScaleView {
    const float* data = nullptr;
    std::size_t size = 0;  // 1 or the kernel's channel count
};

// Integer weights clip(rne(w * sf), -kmax, kmax) (float32 product, round half to even) into out[w.size].
void quantize_int8(KernelView w, ScaleView sf, int bitwidth, int8_t* out);

}  // namespace akq
