#include "akq/device/ranges.hpp"

#include <cmath>
#include <cstdlib>

#include "akq/device/akd1000.hpp"

namespace akq::device {

using namespace akd1000;

FireRanges fire_ranges(const LayerSpec& layer) {
    switch (layer.type) {
        case LayerType::InputData: return {};
        case LayerType::InputConvolutional:
            return layer.activation ? FireRanges{kHrcThresholdBits, kHrcStepBits} : FireRanges{};
        case LayerType::Convolutional:
        case LayerType::SeparableConvolutional:
            return {layer.activation ? kNpThresholdBits : 0, kNpStepBits};
        case LayerType::FullyConnected:
            return layer.activation ? FireRanges{kNpThresholdBits, kNpStepBits} : FireRanges{};
    }
    return {};
}

int64_t max_threshold(int32_t bits) { return (int64_t{1} << (bits - 1)) - 1; }

int64_t max_step_integer(int32_t bits) { return (int64_t{1} << (bits - kStepFractionBits)) - 1; }

bool threshold_fits(int64_t threshold, int32_t bits) {
    return threshold >= -max_threshold(bits) - 1 && threshold <= max_threshold(bits);
}

bool step_fits(float act_step, int32_t bits) {
    return !(std::floor(static_cast<double>(act_step)) > static_cast<double>(max_step_integer(bits)));
}

FireRangeReport fire_range_report(const LayerSpec& layer) {
    const FireRanges ranges = fire_ranges(layer);
    FireRangeReport r;
    r.threshold_bits = ranges.threshold_bits;
    r.step_bits = ranges.step_bits;
    if (r.threshold_bits > 0)
        for (int32_t t : layer.threshold)
            if (!threshold_fits(t, r.threshold_bits)) {
                ++r.thresholds_out_of_range;
                if (std::llabs(t) > std::llabs(r.worst_threshold)) r.worst_threshold = t;
            }
    if (r.step_bits > 0)
        for (float s : layer.act_step)
            if (!step_fits(s, r.step_bits)) {
                ++r.steps_out_of_range;
                if (s > r.worst_step) r.worst_step = s;
            }
    return r;
}

}  // namespace akq::device
