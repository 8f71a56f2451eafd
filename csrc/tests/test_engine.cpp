// C++ checks of the engine without Python: a hand-computed model, the activation rule (docs/spec C.6),
// the zero-step error, and identical results across SIMD levels and thread counts.
#include <cstdio>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <random>

#include "akq/engine/engine.hpp"
#include "akq/engine/kernels.hpp"
#include "akq/engine/layer_ops.hpp"
#include "akq/engine/plan.hpp"
#include "akq/engine/workers.hpp"
#include "akq/error.hpp"
#include "check.hpp"

namespace {

using akq_test::check;
using akq_test::failures;

akq::LayerSpec input_data(std::array<int32_t, 3> dims) {
    akq::LayerSpec l;
    l.name = "input";
    l.type = akq::LayerType::InputData;
    l.input_dims = l.output_dims = dims;
    l.input_bits = 4;
    return l;
}

void random_fill(std::vector<int8_t>& w, std::mt19937& rng) {
    for (auto& v : w) v = static_cast<int8_t>(static_cast<int>(rng() % 15) - 7);
}

akq::LayerSpec conv(const std::string& name, std::array<int32_t, 3> in, int32_t filters, std::mt19937& rng) {
    akq::LayerSpec l;
    l.name = name;
    l.type = akq::LayerType::Convolutional;
    l.input_dims = in;
    l.kernel_size = {3, 3};
    l.filters = filters;
    l.weights_bits = 4;
    l.act_bits = 4;
    l.output_dims = akq::output_dims(l);
    l.weights.shape = akq::expected_weights_shape(l);
    l.weights.data.resize(9 * in[2] * filters);
    for (auto& w : l.weights.data) w = static_cast<int8_t>(static_cast<int>(rng() % 15) - 7);
    l.threshold.assign(filters, 10);
    l.act_step.assign(filters, 2.5f);
    return l;
}

void test_hand_computed_fully_connected() {
    // 3 inputs (1, 1, 3) -> 2 units without activation: p = clamp20(x . w).
    akq::ModelSpec m;
    m.layers.push_back(input_data({1, 1, 3}));
    akq::LayerSpec fc;
    fc.name = "fc";
    fc.type = akq::LayerType::FullyConnected;
    fc.input_dims = {1, 1, 3};
    fc.filters = 2;
    fc.weights_bits = 8;
    fc.activation = false;
    fc.output_dims = akq::output_dims(fc);
    fc.weights.shape = {1, 1, 3, 2};
    fc.weights.data = {1, -2, 3, 4, -5, 6};  // [k][f]
    fc.threshold = {0, 0};
    fc.act_step = {1.f, 1.f};
    m.layers.push_back(fc);
    akq::Engine engine(m);
    const uint8_t x[3] = {1, 2, 3};
    akq::Output out;
    engine.forward(x, 1, out, 1);
    check(!out.has_activation && out.potentials.size() == 2, "FC output type and size");
    check(out.potentials[0] == 1 * 1 + 2 * 3 + 3 * -5 && out.potentials[1] == -2 + 8 + 18, "FC potentials");
}

void test_activation_rule() {
    // step 1.0944437 truncates to 17/16; 4 bits: level = ceil(16 z / 17) clipped to 15.
    check(akq::activate(100, 0, 17, 4) == 15, "clipped at 15");
    check(akq::activate(1, 0, 17, 4) == 1 && akq::activate(2, 0, 17, 4) == 2, "first levels");
    check(akq::activate(0, 0, 17, 4) == 0 && akq::activate(-5, 0, 17, 4) == 0, "z <= 0 gives 0");
    // z wraps in int32: p = INT32_MIN, th = 1 -> z = INT32_MAX > 0.
    check(akq::activate(INT32_MIN, 1, 1 << 20, 1) == 1, "int32 wrap of p - th");
    // 28-bit numerator: 2^b z - 1 = 2^28 + 15 -> 15 mod 2^28, / 16 -> level 1.
    check(akq::activate((1 << 24) + 1, 0, 16, 4) == 1, "28-bit wrap of the numerator");
}

// The AVX2 activation divides by multiplying with a reciprocal, in 64-bit integer lanes or, for steps
// up to 2^17, in float32: compare it with the exact scalar rule over steps of every magnitude, steps
// on both sides of 2^17, numerators at the quotient boundaries and at the 28-bit wrap, in blocks of
// 32 and 8 filters and a tail.
void test_vector_activation_matches_the_exact_rule() {
    if (!akq::simd_level_supported(akq::SimdLevel::Avx2)) return;
    std::mt19937 rng(5);
    akq::LayerSpec l;
    l.name = "fc";
    l.type = akq::LayerType::FullyConnected;
    l.input_dims = {1, 1, 1};
    const int32_t F = 45, rows = 64, ld = 48;
    l.filters = F;
    l.weights_bits = 8;
    l.output_dims = akq::output_dims(l);
    l.weights.shape = {1, 1, 1, F};
    l.weights.data.assign(F, 1);
    auto any_step = [&](int32_t f) {
        const float candidates[] = {0.0625f, 1.f, 1.0944437f, 3.3f, 1000.7f, 65535.9f, 8388607.f, 16777218.f,
                                    16777216.f * 15.9f, 2.f + f};
        return f < 10 ? candidates[f] : std::ldexp(1.f + (rng() % 1000) / 1000.f, static_cast<int>(rng() % 27) - 4);
    };
    auto small_step = [&](int32_t) { return static_cast<float>(1 + rng() % (1 << 17)) / 16; };  // step16 <= 2^17
    auto edge_step = [&](int32_t f) { return static_cast<float>((1 << 17) - 2 + f % 4) / 16; };  // 2^17 - 2 .. + 1
    for (const auto& step : {std::function<float(int32_t)>(any_step), std::function<float(int32_t)>(small_step),
                             std::function<float(int32_t)>(edge_step)})
        for (int repeat = 0; repeat < 20; ++repeat) {
            l.threshold.clear();
            l.act_step.clear();
            for (int32_t f = 0; f < F; ++f) {
                l.threshold.push_back(static_cast<int32_t>(rng() % 2001) - 1000);
                l.act_step.push_back(step(f));
            }
            for (int32_t bits : {1, 2, 4}) {
                l.act_bits = bits;
                const akq::CompiledLayer c = akq::compile_layer(l);
                std::vector<int32_t> p(rows * ld);
                for (int32_t r = 0; r < rows; ++r)
                    for (int32_t f = 0; f < F; ++f) {
                        const int64_t target = int64_t(rng() % 17) * c.step16[f] + int64_t(rng() % 3) - 1;
                        int64_t z = ((target + 1) >> bits) + int64_t(rng() % 3) - 1;  // next to a level boundary
                        // In a quarter of the sets, potentials at the wrap and anywhere (the integer path
                        // takes a block from the first row that wraps).
                        if (repeat % 4 == 0 && r % 16 == 7) z = (int64_t{1} << (28 - bits)) + int64_t(rng() % 5) - 2;
                        if (repeat % 4 == 0 && r % 16 == 3) z = static_cast<int32_t>(rng());
                        p[r * ld + f] = static_cast<int32_t>(static_cast<uint32_t>(c.threshold[f] + z));
                    }
                std::vector<uint8_t> expected(rows * F), got(rows * F);
                std::vector<int32_t> expected_rows(rows), got_rows(rows);
                const int64_t e1 = akq::scalar_kernels().activate(p.data(), rows, ld, F, c.threshold.data(),
                                                                  c.step16.data(), c.magic.data(), c.shift.data(),
                                                                  bits, expected.data(), expected_rows.data());
                const int64_t e2 = akq::avx2_kernels()->activate(p.data(), rows, ld, F, c.threshold.data(),
                                                                c.step16.data(), c.magic.data(), c.shift.data(), bits,
                                                                got.data(), got_rows.data());
                check(expected == got && e1 == e2 && expected_rows == got_rows,
                      "AVX2 activation equals the exact rule");
            }
        }
}

void test_zero_step_is_an_engine_error() {
    std::mt19937 rng(1);
    akq::ModelSpec m;
    m.layers.push_back(input_data({5, 5, 2}));
    m.layers.push_back(conv("conv", {5, 5, 2}, 3, rng));
    m.layers.back().act_step[1] = 16777216.f;  // 2^24: 16 * step = 2^28
    bool raised = false;
    try {
        akq::Engine engine(m);
    } catch (const akq::Error& e) {
        raised = e.kind() == akq::ErrorKind::Engine && std::string(e.what()).find("'conv'") != std::string::npos;
    }
    check(raised, "act_step 2^24 raises Error(Engine) naming the layer");
}

void test_levels_and_threads_agree() {
    std::mt19937 rng(2);
    akq::ModelSpec m;
    m.layers.push_back(input_data({11, 9, 5}));
    m.layers.push_back(conv("c1", {11, 9, 5}, 13, rng));
    m.layers.push_back(conv("c2", m.layers.back().output_dims, 21, rng));
    akq::Engine engine(m);
    const int64_t batch = 7;
    std::vector<uint8_t> x(batch * engine.input_size());
    for (auto& v : x) v = static_cast<uint8_t>(rng() % 16);
    akq::Output reference, other;
    akq::set_simd_level("scalar");
    engine.forward(x.data(), batch, reference, 1);
    for (akq::SimdLevel level : akq::supported_simd_levels()) {
        akq::set_simd_level(akq::simd_level_name(level));
        for (int threads : {1, 2, 3}) {
            engine.forward(x.data(), batch, other, threads);
            check(other.activations == reference.activations, "same activations for every level and thread count");
        }
    }
    akq::set_simd_level("auto");
    bool any_nonzero = false;
    for (uint8_t v : reference.activations) any_nonzero |= v != 0;
    check(any_nonzero, "the test model produces events");
    check(engine.statistics().size() == 3 && engine.statistics()[1].samples == batch, "statistics kept");
}

// A batch runs layer by layer in chunks; a small layer takes several samples per call. Results must
// not depend on the batch a sample is in (regression: GAP InputConvolutional then FC, batch 5).
void test_batches_equal_single_samples() {
    std::mt19937 rng(3);
    akq::ModelSpec m;
    akq::LayerSpec a;
    a.name = "in";
    a.type = akq::LayerType::InputConvolutional;
    a.input_dims = {9, 14, 4};
    a.filters = 19;
    a.weights_bits = 4;
    a.pool_type = akq::PoolType::Average;
    a.act_bits = 2;
    a.output_dims = akq::output_dims(a);
    a.weights.shape = akq::expected_weights_shape(a);
    for (int i = 0; i < 4 * 19; ++i) a.weights.data.push_back(static_cast<int8_t>(static_cast<int>(rng() % 15) - 7));
    a.threshold.assign(19, 100);
    a.act_step.assign(19, 50.f);
    m.layers.push_back(a);
    akq::LayerSpec f;
    f.name = "fc";
    f.type = akq::LayerType::FullyConnected;
    f.input_dims = a.output_dims;
    f.filters = 15;
    f.weights_bits = 8;
    f.activation = false;
    f.output_dims = akq::output_dims(f);
    f.weights.shape = akq::expected_weights_shape(f);
    for (int i = 0; i < 19 * 15; ++i) f.weights.data.push_back(static_cast<int8_t>(rng()));
    f.threshold.assign(15, 3);
    f.act_step.assign(15, 1.f);
    m.layers.push_back(f);
    akq::Engine engine(m);
    const int64_t batch = 13;
    std::vector<uint8_t> x(batch * engine.input_size());
    for (auto& v : x) v = static_cast<uint8_t>(rng());
    akq::Output all, one;
    engine.forward(x.data(), batch, all, 1);
    bool same = true;
    for (int64_t n = 0; n < batch; ++n) {
        engine.forward(x.data() + n * engine.input_size(), 1, one, 1);
        same &= std::equal(one.potentials.begin(), one.potentials.end(), all.potentials.begin() + n * 15);
    }
    check(same, "a sample gives the same potentials alone and in a batch");
}

akq::LayerSpec separable(const std::string& name, std::array<int32_t, 3> in, int32_t filters, std::mt19937& rng) {
    akq::LayerSpec l = conv(name, in, filters, rng);
    l.type = akq::LayerType::SeparableConvolutional;
    l.weights.shape = akq::expected_weights_shape(l);
    l.weights.data.resize(9 * in[2]);
    random_fill(l.weights.data, rng);
    l.weights_pw.shape = {1, 1, in[2], filters};
    l.weights_pw.data.resize(int64_t{in[2]} * filters);
    random_fill(l.weights_pw.data, rng);
    return l;
}

akq::LayerSpec fully_connected(const std::string& name, std::array<int32_t, 3> in, int32_t units, std::mt19937& rng) {
    akq::LayerSpec l = conv(name, in, units, rng);
    l.type = akq::LayerType::FullyConnected;
    l.kernel_size = {1, 1};
    l.output_dims = akq::output_dims(l);
    l.weights.shape = akq::expected_weights_shape(l);
    l.weights.data.resize(int64_t{in[0]} * in[1] * in[2] * units);
    random_fill(l.weights.data, rng);
    l.activation = false;
    return l;
}

// Fewer samples than threads: large layers are shared by the threads, by rows (output rows of a
// convolution, positions of a separable layer; each thread then activates its rows unless the layer
// pools) or, with few positions, by panels of filters. Outputs and statistics must not change.
void test_shared_layers_equal_one_thread() {
    std::mt19937 rng(4);
    std::vector<akq::ModelSpec> models(3);
    {  // by rows, activated by the threads
        auto& m = models[0].layers;
        m.push_back(input_data({30, 29, 16}));
        m.push_back(conv("big_conv", {30, 29, 16}, 40, rng));  // 30*29*9*16*40 MACs
        m.push_back(separable("big_sep", m.back().output_dims, 64, rng));
    }
    {  // by rows, then pooled on one thread
        auto& m = models[1].layers;
        m.push_back(input_data({9, 9, 16}));
        akq::LayerSpec pooled = conv("pooled_conv", {9, 9, 16}, 64, rng);
        pooled.pool_type = akq::PoolType::Max;
        pooled.pool_size = pooled.pool_stride = {2, 2};
        pooled.output_dims = akq::output_dims(pooled);
        m.push_back(pooled);
    }
    {  // by filters: 2 x 2 positions, then a fully connected last layer; 200 filters leave a half panel
        auto& m = models[2].layers;
        m.push_back(input_data({2, 2, 128}));
        m.push_back(separable("few_positions", {2, 2, 128}, 200, rng));
        m.push_back(fully_connected("wide_fc", m.back().output_dims, 600, rng));
    }
    for (const akq::ModelSpec& m : models) {
        for (size_t i = 1; i < m.layers.size(); ++i) {
            const akq::CompiledLayer L = akq::compile_layer(m.layers[i]);
            check(akq::share_layer(L, 2).parts == 2, (m.layers[i].name + " is shared by 2 threads").c_str());
        }
        akq::Engine engine(m);
        for (int64_t batch : {1, 2}) {
            std::vector<uint8_t> x(batch * engine.input_size());
            for (auto& v : x) v = static_cast<uint8_t>(rng() % 16);
            akq::Output one, many;
            engine.forward(x.data(), batch, one, 1);
            const auto stats = engine.statistics();
            // Layers are shared in a stream of calls: the second call follows the first at once.
            engine.forward(x.data(), batch, many, 3);
            engine.forward(x.data(), batch, many, 3);
            check(one.activations == many.activations && one.potentials == many.potentials,
                  (m.layers.back().name + ": shared layers give the same outputs").c_str());
            const auto shared_stats = engine.statistics();
            bool same = true;
            for (size_t i = 0; i < stats.size(); ++i)
                same &= stats[i].synaptic_ops == shared_stats[i].synaptic_ops &&
                        stats[i].input_events == shared_stats[i].input_events &&
                        stats[i].output_events == shared_stats[i].output_events;
            check(same, (m.layers.back().name + ": shared layers give the same statistics").c_str());
        }
    }
}

// A team runs every part of every step once, with as many parts as it has threads or more (the
// caller runs those beyond), and more helpers than cores.
void test_team_runs_every_part() {
    for (int helpers : {1, 3}) {
        akq::Team team(helpers);
        std::vector<int64_t> runs(8, 0);
        bool all = true;
        for (int64_t step = 0; step < 2000; ++step) {
            const int64_t parts = 1 + step % 6;
            std::fill(runs.begin(), runs.end(), 0);
            team.run(parts, [&](int64_t index) { runs[index] += 1; });
            for (int64_t i = 0; i < 8; ++i) all &= runs[i] == (i < parts ? 1 : 0);
        }
        check(all, "each part of a team's step runs once");
    }
}

void test_input_range_error() {
    akq::ModelSpec m;
    m.layers.push_back(input_data({1, 1, 4}));
    akq::Engine engine(m);
    const uint8_t x[4] = {0, 15, 16, 1};
    akq::Output out;
    bool raised = false;
    try {
        engine.forward(x, 1, out, 1);
    } catch (const akq::Error& e) {
        raised = e.kind() == akq::ErrorKind::Input;
    }
    check(raised, "value 16 refused for input_bits 4");
}

}  // namespace

int main() {
    test_hand_computed_fully_connected();
    test_activation_rule();
    test_vector_activation_matches_the_exact_rule();
    test_zero_step_is_an_engine_error();
    test_levels_and_threads_agree();
    test_batches_equal_single_samples();
    test_shared_layers_equal_one_thread();
    test_team_runs_every_part();
    test_input_range_error();
    if (failures) return EXIT_FAILURE;
    std::puts("test_engine: all checks passed");
    return EXIT_SUCCESS;
}
