// The programming ranges of the AKD1000 (docs/spec D.4): which fire variables a layer programs and on
// how many bits. The one rule behind map()'s programming checks (constraints.cpp) and the conversion
// report's out-of-range counts (fire_range_report), checked against akida 2.4.0 in
// tests/test_device_ranges.py.
#pragma once
#include <cstdint>

#include "akq/model.hpp"

namespace akq::device {

// Widths of the programmed values of a layer; 0: the value is not programmed (and not checked).
struct FireRanges {
    int32_t threshold_bits = 0;  // signed
    int32_t step_bits = 0;       // unsigned, of floor(16 act_step)
};

// InputConvolutional (the HRC): 24 bits for both, and nothing without activation (the HRC cannot run
// such a layer, so the reference refuses it before programming). CNP layers: the threshold only with an
// activation, the step always; FullyConnected: both only with an activation. 20 bits on CNPs and FNPs.
FireRanges fire_ranges(const LayerSpec& layer);

bool threshold_fits(int64_t threshold, int32_t bits);
bool step_fits(float act_step, int32_t bits);
int64_t max_threshold(int32_t bits);   // 2^(bits-1) - 1 (the minimum is -2^(bits-1))
int64_t max_step_integer(int32_t bits);  // the largest floor(act_step) that fits: 2^(bits-4) - 1

// How many programmed values of a layer fall outside these ranges.
struct FireRangeReport {
    int32_t threshold_bits = 0;  // as in FireRanges
    int64_t thresholds_out_of_range = 0;
    int64_t worst_threshold = 0;  // the threshold furthest outside (0 if none)
    int32_t step_bits = 0;
    int64_t steps_out_of_range = 0;
    double worst_step = 0.0;      // the act_step furthest outside (0 if none)
};
FireRangeReport fire_range_report(const LayerSpec& layer);

}  // namespace akq::device
