// Unit tests of batch-norm folding and fire parameters (docs/spec B.2 step 4, B.6, D.4): hand-computed values,
// the float32/float64 split of the reference, the akq per-tensor extension, and refusals.
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "akq/device/ranges.hpp"
#include "akq/error.hpp"
#include "akq/fold.hpp"
#include "akq/threshold.hpp"
#include "check.hpp"

namespace {

using akq_test::failures;
using akq_test::throws;

void test_fold() {
    // g = gamma / sqrt(var + eps): 2 / sqrt(3 + 1) = 1, -3 / sqrt(8 + 1) = -1
    const auto g = akq::batchnorm_scale({2.0f, -3.0f}, {3.0f, 8.0f}, 1.0);
    CHECK(g.size() == 2 && g[0] == 1.0f && g[1] == -1.0f);
    std::vector<float> kernel{1.0f, 2.0f, 3.0f, 4.0f};  // (2, 2): rows are inputs, columns outputs
    akq::scale_output_channels(kernel.data(), kernel.size(), {2.0f, -0.5f});
    CHECK(kernel == (std::vector<float>{2.0f, -1.0f, 6.0f, -2.0f}));
    // beta + (bias - mean) * g; no bias is a zero bias
    CHECK(akq::fold_bias({1.0f, 1.0f}, {0.5f, 0.5f}, {3.0f, 0.0f}, {2.0f, -1.0f}) == (std::vector<float>{-3.5f, -0.5f}));
    CHECK(akq::fold_bias({}, {0.5f}, {3.0f}, {2.0f}) == std::vector<float>{-5.5f});
    // epsilon is rounded to float32 before the float32 addition, as numpy does with a Python float
    const float var = 1.0f, eps32 = static_cast<float>(1e-3);
    CHECK(akq::batchnorm_scale({1.0f}, {var}, 1e-3)[0] == 1.0f / std::sqrt(var + eps32));
    std::vector<int8_t> w{1, -2, 3, -4};
    akq::negate_negative_channels(w.data(), w.size(), {1.0f, -2.0f});
    CHECK(w == (std::vector<int8_t>{1, 2, 3, 4}));
    CHECK(throws([] { akq::fold_bias({1.0f}, {0.5f, 0.5f}, {0.0f, 0.0f}, {1.0f, 1.0f}); },
                 akq::ErrorKind::InvalidArgument));
    std::vector<float> odd{1.0f, 2.0f, 3.0f};
    CHECK(throws([&] { akq::scale_output_channels(odd.data(), odd.size(), {1.0f, 1.0f}); },
                 akq::ErrorKind::InvalidArgument));
}

akq::FireInputs block(float sf, float bias, int bits, float sigma) {
    akq::FireInputs in;
    in.scale_factor = {sf};
    in.bias = {bias};
    in.act_bits = bits;
    in.act_step = sigma;
    return in;
}

void test_fire_parameters() {
    // S = 2.5 * 4 = 10; threshold = floor(10 * (0.5 - 0.26)) = floor(2.4) = 2; step = 10 * 1 * 4/16
    auto in = block(4.0f, 0.26f, 2, 1.0f);
    in.input_scale = 2.5;
    auto out = akq::fire_parameters(in, 1);
    CHECK(out.threshold[0] == 2 && out.act_step[0] == 2.5f && out.potential_step[0] == 10.0);
    // negative thresholds floor downwards
    out = akq::fire_parameters(block(4.0f, 1.0f, 4, 1.0f), 1);
    CHECK(out.threshold[0] == -2 && out.act_step[0] == 4.0f);
    // no activation: threshold -S bias, step S
    in = block(3.0f, 0.5f, 1, 1.0f);
    in.activation = false;
    out = akq::fire_parameters(in, 1);
    CHECK(out.threshold[0] == -2 && out.act_step[0] == 3.0f);
    // input shift adds s * sum(W); GAP multiplies both by G
    in = block(1.0f, 0.0f, 4, 2.0f);
    in.input_shift = 0.5;
    in.weight_sums = {7};
    in.pooled_positions = 3;
    out = akq::fire_parameters(in, 1);
    CHECK(out.threshold[0] == static_cast<int32_t>(std::floor((1.0 + 3.5) * 3)) && out.act_step[0] == 6.0f);
    // per-axis: S = float32(float32(a) * sf); per-tensor: S = a * sf in double
    in = block(3.0f, 0.0f, 4, 2.0f);
    in.input_scale = 1.0 / 3.0;
    in.activation = false;
    in.per_axis = true;
    const float s32 = static_cast<float>(1.0 / 3.0) * 3.0f;
    CHECK(akq::fire_parameters(in, 1).act_step[0] == s32);
    in.per_axis = false;
    CHECK(akq::fire_parameters(in, 1).potential_step[0] == (1.0 / 3.0) * 3.0);
    // extension: a BN scale g divides S (by |g|)
    in = block(8.0f, 0.0f, 4, 1.0f);
    in.channel_scale = {-2.0f};
    out = akq::fire_parameters(in, 1);
    CHECK(out.potential_step[0] == 4.0 && out.threshold[0] == 2);
    // refusals
    CHECK(throws([] { akq::fire_parameters(block(1.0f, 0.0f, 1, 1.0f), 2); }, akq::ErrorKind::InvalidArgument));
    CHECK(throws([] { akq::fire_parameters(block(1000.0f, -1e9f, 4, 1.0f), 1); }, akq::ErrorKind::Quantization));
    CHECK(throws([] { akq::fire_parameters(block(1.0f, std::nanf(""), 4, 1.0f), 1); }, akq::ErrorKind::Quantization));
    auto shifted = block(1.0f, 0.0f, 4, 1.0f);
    shifted.input_shift = 1.0;
    CHECK(throws([&] { akq::fire_parameters(shifted, 1); }, akq::ErrorKind::InvalidArgument));
}

void test_fire_ranges() {
    akq::LayerSpec l;
    l.type = akq::LayerType::Convolutional;
    l.activation = true;
    l.threshold = {524287, -524288, 524288, -600000};
    l.act_step = {65535.9f, 65536.0f};
    auto r = akq::device::fire_range_report(l);
    CHECK(r.threshold_bits == 20 && r.thresholds_out_of_range == 2 && r.worst_threshold == -600000);
    CHECK(r.step_bits == 20 && r.steps_out_of_range == 1 && r.worst_step == 65536.0);
    l.type = akq::LayerType::InputConvolutional;
    r = akq::device::fire_range_report(l);
    CHECK(r.threshold_bits == 24 && r.thresholds_out_of_range == 0 && r.steps_out_of_range == 0);
    l.type = akq::LayerType::FullyConnected;
    l.activation = false;
    r = akq::device::fire_range_report(l);
    CHECK(r.threshold_bits == 0 && r.step_bits == 0 && r.thresholds_out_of_range == 0);
    l.type = akq::LayerType::InputConvolutional;  // the HRC cannot run it: nothing is programmed
    l.act_step = {1e9f};
    r = akq::device::fire_range_report(l);
    CHECK(r.threshold_bits == 0 && r.step_bits == 0 && r.steps_out_of_range == 0);
}

}  // namespace

int main() {
    test_fold();
    test_fire_parameters();
    test_fire_ranges();
    if (failures) std::fprintf(stderr, "%d checks failed\n", failures);
    return failures ? 1 : 0;
}
