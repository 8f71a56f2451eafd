// Weight quantization (docs/spec A.1): the scale factors of the four built-in quantizers and the integer
// and fake-quantized weights for a given scale factor, in exactly TensorFlow's float32 arithmetic.
//
// A kernel is a row-major float32 array whose last axis holds the output channels (filters/units).
// All functions refuse non-finite weights, bad scale factors and bitwidths outside [2, 8] with
// akq::Error(ErrorKind::Quantization).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace akq {

// Range of the quantization interval: max |w|, or threshold * population std of w.
enum class RangeMethod { Max, Std };

// A read-only row-major float32 kernel of `size` values whose last axis has `channels` values.
struct KernelView {
    const float* data = nullptr;
    std::size_t size = 0;
    std::size_t channels = 0;
};

// Limits of the built-in quantizers.
constexpr int kMinWeightBits = 2;
constexpr int kMaxWeightBits = 8;
constexpr float kScaleFactorMax = 1000.0f;  // sf is clipped to [0, kScaleFactorMax]
constexpr float kRangeMin = 1e-10f;         // ranges are clamped to [kRangeMin, FLT_MAX]

// kmax = 2^(bitwidth-1) - 1, the largest integer weight; refuses bitwidths outside [2, 8].
int32_t weight_kmax(int bitwidth);

// Scale factors sf = clip(kmax / range, 0, 1000) in float32: one value (per_axis false) or one per
// channel (per_axis true). The range is max |w| (Max) or float32(threshold) * float32(std(w)) (Std,
// population std accumulated in double), clamped to [kRangeMin, FLT_MAX]; the clamp changes nothing
// where the reference's sf is non-zero (see the .cpp).
std::vector<float> scale_factors(KernelView w, RangeMethod method, bool per_axis, int bitwidth,
                                 float threshold);

// A scale factor: one value for the whole kernel, or one per channel.
struct ScaleView {
    const float* data = nullptr;
    std::size_t size = 0;  // 1 or the kernel's channel count
};

// Integer weights clip(rne(w * sf), -kmax, kmax) (float32 product, round half to even) into out[w.size].
void quantize_int8(KernelView w, ScaleView sf, int bitwidth, int8_t* out);

// Fake-quantized weights clip(rne(w * sf), -kmax, kmax) / sf (float32) into out[w.size].
void fake_quantize(KernelView w, ScaleView sf, int bitwidth, float* out);

}  // namespace akq
