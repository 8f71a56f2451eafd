// Fire thresholds and activation steps of a converted layer (docs/spec B.6); their hardware ranges are in
// akq/device/ranges.hpp.
//
// A Keras block computes y = p / S + bias from the integer potential p, where S = a_in * sf is the
// number of potential units per Keras unit (a_in: the layer's input scale, sf: the weight scale factor).
// Its quantized activation fires level k when y > sigma/2 + (k-1) sigma, i.e. when
// p > S (sigma/2 - bias) + (k-1) S sigma. The threshold is the floor of the first bound, the step is
// S sigma times 2^b/16 because the engine divides by floor(16 act_step) / 2^b (docs/spec C.6).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "akq/model.hpp"

namespace akq {

struct FireInputs {
    // Weight scale factor: one value (per-tensor quantizer) or one per filter (per-axis quantizer).
    // The reference multiplies a per-axis vector by the input scale in float32 and a per-tensor
    // scalar in float64; `per_axis` selects which.
    std::vector<float> scale_factor;
    bool per_axis = false;
    // akq extension: a BatchNormalization scale g per filter kept out of a per-tensor kernel; the
    // potential units per Keras unit become S / |g| (negative channels have negated weights). Empty: none.
    std::vector<float> channel_scale;
    double input_scale = 1.0;  // a_in
    double input_shift = 0.0;  // s_in: the first layer sees a_in * x + s_in
    std::vector<float> bias;   // one per filter; empty: no bias
    std::vector<int64_t> weight_sums;  // sum of the integer weights of each filter (needed when s_in != 0)
    bool activation = true;
    int32_t act_bits = 1;
    float act_step = 1.0f;          // sigma, the Keras activation step
    int64_t pooled_positions = 1;   // G: positions summed by a global average pool (1 without)
};

struct FireParameters {
    std::vector<int32_t> threshold;
    std::vector<float> act_step;
    std::vector<double> potential_step;  // S * sigma * G: potential units per Keras activation step
};

// Thresholds floor(th_real) as int32 and steps as float32 for `filters` filters. Throws
// akq::Error(InvalidArgument) for inconsistent inputs, akq::Error(Quantization) for a non-finite
// result or a threshold beyond int32.
FireParameters fire_parameters(const FireInputs& in, int32_t filters);

}  // namespace akq
