// The quantize loops, portable build vs AVX2 build, on a 4096x4096 float32 kernel with preallocated
// outputs (no page faults): bytes read + written per second of each loop.
//   cmake -S . -B build/bench -G Ninja -DAKQ_BUILD_BENCH=ON && cmake --build build/bench -j2
//   build/bench/bench_quantize_loops
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "akq/quantize_loops.hpp"

namespace {

using akq::quantize_loops::Loops;

constexpr std::size_t kRows = 4096, kChannels = 4096, kSize = kRows * kChannels;

const std::vector<float>& kernel() {
    static const std::vector<float> w = [] {
        std::vector<float> v(kSize);
        std::mt19937 rng(0);
        std::normal_distribution<float> normal(0.0f, 1.0f);
        for (float& x : v) x = normal(rng);
        return v;
    }();
    return w;
}

const Loops* loops_of(const benchmark::State& state) {
    return state.range(0) ? akq::quantize_loops::avx2_loops() : &akq::quantize_loops::portable_loops();
}

bool skip_without(benchmark::State& state, const Loops* loops) {
    if (loops) return false;
    state.SkipWithError("no AVX2 on this machine");
    return true;
}

void column_abs_max(benchmark::State& state) {
    const Loops* loops = loops_of(state);
    if (skip_without(state, loops)) return;
    std::vector<float> acc(kChannels);
    for (auto _ : state) {
        loops->column_abs_max(kernel().data(), kSize, kChannels, acc.data());
        benchmark::DoNotOptimize(acc.data());
    }
    state.SetBytesProcessed(state.iterations() * kSize * sizeof(float));
    state.SetLabel(loops->name);
}

void to_int8(benchmark::State& state) {
    const Loops* loops = loops_of(state);
    if (skip_without(state, loops)) return;
    const std::vector<float> sf(kChannels, 37.5f);
    std::vector<int8_t> out(kSize);
    for (auto _ : state) {
        benchmark::DoNotOptimize(loops->to_int8(kernel().data(), kSize, sf.data(), kChannels, 127.0f, out.data()));
    }
    state.SetBytesProcessed(state.iterations() * kSize * (sizeof(float) + sizeof(int8_t)));
    state.SetLabel(loops->name);
}

}  // namespace

// Argument: 0 = portable loops, 1 = AVX2 loops.
BENCHMARK(column_abs_max)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(to_int8)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
