// Google-benchmark timings of the C++ engine (no Python): one single-layer model per layer type and
// the whole benchmark networks of bench/engine.py (same architectures, random 8-bit first-layer and
// 4-bit other weights, thresholds at the median potential: about half of the activations are zero).
//
//   cmake -DAKQ_BUILD_BENCH=ON ... && ./bench_engine_bench [--benchmark_filter=vgg]
// Counters: samples/s and MAC/s (items_per_second = samples/s).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>

#include "akq/engine/engine.hpp"

namespace {

struct Block {
    akq::LayerType type;
    int32_t filters, kernel, stride;
    akq::Padding padding;
    akq::PoolType pool;
    int32_t pool_size;
};

using akq::LayerType;
using akq::Padding;
using akq::PoolType;

struct Network {
    std::array<int32_t, 3> input;
    std::vector<Block> blocks;
};

Block conv(int32_t f, int32_t k, int32_t s, PoolType pool = PoolType::NoPooling, int32_t q = -1,
           Padding p = Padding::Same) {
    return {LayerType::Convolutional, f, k, s, p, pool, q};
}
Block sep(int32_t f, int32_t s, PoolType pool = PoolType::NoPooling) {
    return {LayerType::SeparableConvolutional, f, 3, s, Padding::Same, pool, -1};
}
Block fc(int32_t units) { return {LayerType::FullyConnected, units, 1, 1, Padding::Same, PoolType::NoPooling, -1}; }

Network mobilenet(int32_t size, int32_t classes) {
    Network n{{size, size, 3}, {conv(16, 3, 2)}};
    const int32_t f[] = {32, 64, 64, 128, 128, 256, 256, 256, 256, 256, 256, 512, 512};
    const int32_t s[] = {1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1};
    for (int i = 0; i < 13; ++i) n.blocks.push_back(sep(f[i], s[i], i == 12 ? PoolType::Average : PoolType::NoPooling));
    n.blocks.push_back(fc(classes));
    return n;
}

Network network(const std::string& name) {
    if (name == "toy") return {{28, 28, 1}, {conv(8, 3, 1, PoolType::Max, 2, Padding::Valid), fc(10)}};
    if (name == "dscnn")
        return {{49, 10, 1}, {conv(64, 5, 2), sep(64, 1), sep(64, 1), sep(64, 1), sep(64, 1, PoolType::Average), fc(12)}};
    if (name == "mobilenet32") return mobilenet(32, 10);
    if (name == "mobilenet96") return mobilenet(96, 1000);
    if (name == "vgg")
        return {{32, 32, 3},
                {conv(32, 3, 1), conv(32, 3, 1, PoolType::Max, 2), conv(64, 3, 1), conv(64, 3, 1, PoolType::Max, 2),
                 conv(128, 3, 1), conv(128, 3, 1, PoolType::Max, 2), fc(10)}};
    // single layers
    if (name == "layer_input_conv") return {{32, 32, 3}, {conv(32, 3, 1)}};
    if (name == "layer_conv") return {{16, 16, 64}, {conv(64, 1, 1), conv(64, 3, 1)}};
    if (name == "layer_separable") return {{16, 16, 128}, {conv(128, 1, 1), sep(128, 1)}};
    if (name == "layer_fully_connected") return {{1, 1, 1024}, {conv(1024, 1, 1), fc(1000)}};
    return {};
}

void random_weights(akq::Int8Tensor& t, std::array<int32_t, 4> shape, int bits, std::mt19937& rng) {
    t.shape = shape;
    t.data.resize(static_cast<size_t>(shape[0]) * shape[1] * shape[2] * shape[3]);
    const int top = bits == 8 ? 127 : (1 << (bits - 1)) - 1;
    for (auto& w : t.data) w = static_cast<int8_t>(static_cast<int>(rng() % (2 * top + 1)) - top);
}

// Builds the network layer by layer; thresholds at the median potential of a calibration batch and
// 15 levels up to the 99th percentile.
akq::ModelSpec build(const Network& n, std::mt19937& rng) {
    akq::ModelSpec m;
    const int64_t calibration = 16;
    std::vector<uint8_t> x(calibration * n.input[0] * n.input[1] * n.input[2]);
    for (auto& v : x) v = static_cast<uint8_t>(rng());
    for (size_t i = 0; i < n.blocks.size(); ++i) {
        const Block& b = n.blocks[i];
        akq::LayerSpec l;
        l.name = "layer" + std::to_string(i);
        l.type = i == 0 ? LayerType::InputConvolutional : b.type;
        l.input_dims = i == 0 ? n.input : m.layers.back().output_dims;
        l.kernel_size = {b.kernel, b.kernel};
        l.kernel_stride = {b.stride, b.stride};
        l.padding = b.padding;
        l.pool_type = b.pool;
        l.pool_size = {b.pool_size, b.pool_size};
        l.filters = b.filters;
        l.weights_bits = i == 0 ? 8 : 4;
        l.act_bits = 4;
        l.activation = false;
        l.output_dims = akq::output_dims(l);
        random_weights(l.weights, akq::expected_weights_shape(l), l.weights_bits, rng);
        if (l.type == LayerType::SeparableConvolutional)
            random_weights(l.weights_pw, {1, 1, l.input_dims[2], l.filters}, 4, rng);
        l.threshold.assign(l.filters, 0);
        l.act_step.assign(l.filters, 1.f);
        m.layers.push_back(l);
        if (i + 1 == n.blocks.size()) break;
        akq::Engine prefix(m);
        akq::Output out;
        prefix.forward(x.data(), calibration, out, 0);
        auto& last = m.layers.back();
        for (int32_t f = 0; f < l.filters; ++f) {
            std::vector<int32_t> p;
            for (size_t j = f; j < out.potentials.size(); j += l.filters) p.push_back(out.potentials[j]);
            std::sort(p.begin(), p.end());
            const int32_t median = p[p.size() / 2], top = p[p.size() * 99 / 100];
            last.threshold[f] = median;
            last.act_step[f] = std::max(static_cast<float>(top - median) / 15.f, 1.f / 16.f);
        }
        last.activation = true;
    }
    return m;
}

int64_t macs(const akq::ModelSpec& m) {
    int64_t total = 0;
    for (const auto& l : m.layers) {
        const auto out = akq::conv_output_size(l);
        const int64_t positions = int64_t{out[0]} * out[1], C = l.input_dims[2];
        if (l.type == LayerType::FullyConnected)
            total += int64_t{l.input_dims[0]} * l.input_dims[1] * C * l.filters;
        else if (l.type == LayerType::SeparableConvolutional)
            total += positions * (int64_t{l.kernel_size[0]} * l.kernel_size[1] * C + C * l.filters);
        else
            total += positions * l.kernel_size[0] * l.kernel_size[1] * C * l.filters;
    }
    return total;
}

void run(benchmark::State& state, const std::string& name) {
    std::mt19937 rng(0);
    const akq::ModelSpec spec = build(network(name), rng);
    akq::Engine engine(spec);
    const int64_t batch = state.range(0);
    const int threads = static_cast<int>(state.range(1));
    std::vector<uint8_t> x(batch * engine.input_size());
    for (auto& v : x) v = static_cast<uint8_t>(rng());
    akq::Output out;
    for (auto _ : state) engine.forward(x.data(), batch, out, threads);
    // A single-layer benchmark times the whole model but counts only its last layer's MACs.
    akq::ModelSpec last;
    last.layers.push_back(spec.layers.back());
    const int64_t mac = name.rfind("layer_", 0) == 0 ? macs(last) : macs(spec);
    state.SetItemsProcessed(state.iterations() * batch);
    state.counters["MAC/s"] = benchmark::Counter(static_cast<double>(state.iterations() * batch * mac),
                                                 benchmark::Counter::kIsRate);
}

void arguments(benchmark::internal::Benchmark* b) {
    for (int64_t batch : {1, 256})
        for (int64_t threads : {1, 2}) b->Args({batch, threads});
    b->ArgNames({"batch", "threads"})->UseRealTime()->Unit(benchmark::kMicrosecond);
}

}  // namespace

#define AKQ_BENCH(name) \
    BENCHMARK_CAPTURE(run, name, std::string(#name))->Apply(arguments);
AKQ_BENCH(toy)
AKQ_BENCH(dscnn)
AKQ_BENCH(mobilenet32)
AKQ_BENCH(mobilenet96)
AKQ_BENCH(vgg)
AKQ_BENCH(layer_input_conv)
AKQ_BENCH(layer_conv)
AKQ_BENCH(layer_separable)
AKQ_BENCH(layer_fully_connected)

BENCHMARK_MAIN();
