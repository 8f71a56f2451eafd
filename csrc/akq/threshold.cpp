// Fire thresholds and steps (docs/spec B.6); their hardware ranges are in device/ranges.hpp.
#include "akq/threshold.hpp"

#include <cmath>
#include <sstream>

#include "akq/error.hpp"

namespace akq {

namespace {

[[noreturn]] void fail(const std::string& message) { throw Error(ErrorKind::InvalidArgument, message); }
[[noreturn]] void out_of_range(const std::string& message) { throw Error(ErrorKind::Quantization, message); }

void check_count(size_t got, int32_t filters, const char* what, bool may_be_empty) {
    if ((may_be_empty && got == 0) || got == static_cast<size_t>(filters)) return;
    fail(std::string(what) + " has " + std::to_string(got) + " values, expected " + std::to_string(filters) +
         (may_be_empty ? " (one per filter) or none" : " (one per filter)"));
}

void check_inputs(const FireInputs& in, int32_t filters) {
    if (filters <= 0) fail("a layer needs at least one filter");
    if (in.scale_factor.size() != 1) check_count(in.scale_factor.size(), filters, "scale_factor", false);
    check_count(in.channel_scale.size(), filters, "channel_scale", true);
    check_count(in.bias.size(), filters, "bias", true);
    check_count(in.weight_sums.size(), filters, "weight_sums", true);
    if (!(in.input_scale > 0.0) || !std::isfinite(in.input_scale))
        fail("the input scale must be finite and strictly positive");
    if (!std::isfinite(in.input_shift)) fail("the input shift must be finite");
    if (in.input_shift != 0.0 && in.weight_sums.empty()) fail("an input shift needs the weight sums of each filter");
    if (in.act_bits < 1 || in.act_bits > 8) fail("act_bits must be between 1 and 8");
    if (!(in.act_step > 0.0f) || !std::isfinite(in.act_step)) fail("the activation step must be finite and positive");
    if (in.pooled_positions < 1) fail("the number of pooled positions must be at least 1");
}

// S: potential units per Keras unit of filter f.
double potential_scale(const FireInputs& in, size_t f) {
    const float sf = in.scale_factor[in.scale_factor.size() == 1 ? 0 : f];
    double s = in.per_axis ? static_cast<double>(static_cast<float>(static_cast<float>(in.input_scale) * sf))
                           : in.input_scale * static_cast<double>(sf);
    if (!in.channel_scale.empty()) s /= std::fabs(static_cast<double>(in.channel_scale[f]));
    return s;
}

}  // namespace

FireParameters fire_parameters(const FireInputs& in, int32_t filters) {
    check_inputs(in, filters);
    FireParameters out;
    out.threshold.resize(filters);
    out.act_step.resize(filters);
    out.potential_step.resize(filters);
    const double sigma = in.act_step;
    const double step_factor = std::ldexp(1.0, in.act_bits) / 16.0;  // cancels the engine's 2^b/16 (C.6)
    const double positions = static_cast<double>(in.pooled_positions);
    for (size_t f = 0; f < static_cast<size_t>(filters); ++f) {
        const double s = potential_scale(in, f);
        const double bias = in.bias.empty() ? 0.0 : static_cast<double>(in.bias[f]);
        double threshold = in.activation ? s * (sigma / 2.0 - bias) : s * (0.0 - bias);
        float step = static_cast<float>(in.activation ? s * (sigma * step_factor) : s);
        if (!in.weight_sums.empty()) threshold += in.input_shift * static_cast<double>(in.weight_sums[f]);
        if (in.pooled_positions > 1) {
            threshold *= positions;
            step = static_cast<float>(static_cast<double>(step) * positions);
        }
        const double floored = std::floor(threshold);
        if (!std::isfinite(s) || !std::isfinite(floored) || !std::isfinite(step))
            out_of_range("filter " + std::to_string(f) + " gets a non-finite threshold or step (scale factor, bias or "
                 "batch-norm values are not finite)");
        if (floored < -2147483648.0 || floored > 2147483647.0) {
            std::ostringstream m;
            m << "the threshold of filter " << f << " is " << floored << ", beyond the int32 range";
            out_of_range(m.str());
        }
        out.threshold[f] = static_cast<int32_t>(floored);
        out.act_step[f] = step;
        out.potential_step[f] = (in.activation ? s * sigma : s) * positions;
    }
    return out;
}

}  // namespace akq
