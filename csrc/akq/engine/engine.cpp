// The executor: validates inputs, splits the batch over threads, runs every sample through the
// compiled layers with per-thread scratch (no per-sample allocation), and keeps the statistics.
#include "akq/engine/engine.hpp"

#include <algorithm>
#include <thread>

#include "akq/engine/kernels.hpp"
#include "akq/engine/layer_ops.hpp"
#include "akq/engine/plan.hpp"
#include "akq/error.hpp"

namespace akq {

struct Engine::Workspace {
    std::vector<uint8_t> activations[2];
    std::vector<int32_t> potentials, pooled;
    Scratch scratch;
    std::vector<LayerStatistics> stats;
};

namespace {

int resolve_threads(int threads, int64_t batch) {
    int n = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(n, batch)));
}

// Non-zero inputs, and the weights they touch (per-cell fan-out).
int64_t count_input_events(const CompiledLayer& L, const uint8_t* input, LayerStatistics& st) {
    const int64_t cells = int64_t{L.in0} * L.in1;
    const int64_t events = L.type == LayerType::InputData
                               ? kernels().count_nonzero(input, cells * L.channels)
                               : kernels().count_events(input, cells, L.channels, L.fanout.data(), &st.synaptic_ops);
    st.input_events += events;
    return events;
}

}  // namespace

Engine::Engine(const ModelSpec& spec) : spec_(spec) {
    check_model(spec_);
    for (const LayerSpec& l : spec_.layers) layers_.push_back(std::make_unique<CompiledLayer>(compile_layer(l)));
}

Engine::~Engine() = default;

int64_t Engine::input_size() const { return layers_.front()->input_size(); }
std::array<int32_t, 3> Engine::input_dims() const { return spec_.layers.front().input_dims; }
std::array<int32_t, 3> Engine::output_dims() const { return spec_.layers.back().output_dims; }
bool Engine::last_has_activation() const {
    return layers_.back()->type == LayerType::InputData || layers_.back()->activation;
}

std::vector<LayerStatistics> Engine::statistics() const {
    std::lock_guard<std::mutex> lock(stats_mutex_);
    return last_stats_;
}

void Engine::run_samples(const uint8_t* input, int64_t first, int64_t count, uint8_t* out_activations,
                         int32_t* out_potentials, Workspace& ws) const {
    const int64_t in_size = input_size();
    const size_t n_layers = layers_.size();
    const int64_t out_size = layers_.back()->output_size();
    for (int64_t n = first; n < first + count; ++n) {
        const uint8_t* current = input + n * in_size;
        for (size_t li = 0; li < n_layers; ++li) {
            const CompiledLayer& L = *layers_[li];
            LayerStatistics& st = ws.stats[li];
            const bool last = li + 1 == n_layers;
            const int64_t events = count_input_events(L, current, st);
            if (L.type == LayerType::InputData) {
                st.output_events += events;  // the layer passes its input through
                if (last) std::copy(current, current + in_size, out_activations + n * out_size);
                continue;
            }
            uint8_t* next = last ? (L.activation ? out_activations + n * out_size : nullptr)
                                 : ws.activations[li % 2].data();
            int32_t* potentials_out = last && !L.activation ? out_potentials + n * out_size : nullptr;
            st.synaptic_ops += compute_potentials(L, current, ws.potentials.data(), ws.scratch);
            st.output_events += finish_layer(L, ws.potentials.data(), ws.pooled.data(), next, potentials_out);
            current = next;
        }
    }
}

void Engine::forward(const uint8_t* input, int64_t batch, uint8_t* out_activations, int32_t* out_potentials,
                     int threads) {
    if (batch < 0) throw Error(ErrorKind::Input, "the batch size must not be negative");
    const CompiledLayer& first = *layers_.front();
    const int64_t total = batch * input_size();
    if (first.type == LayerType::InputData && first.input_bits < 8) {
        const uint8_t limit = static_cast<uint8_t>((1u << first.input_bits) - 1);
        const uint8_t* bad = std::find_if(input, input + total, [limit](uint8_t v) { return v > limit; });
        if (bad != input + total)
            throw Error(ErrorKind::Input, "input value " + std::to_string(*bad) + " (sample " +
                                              std::to_string((bad - input) / input_size()) + ") is out of range: '" +
                                              first.spec->name + "' takes input_bits=" +
                                              std::to_string(first.input_bits) + " values in [0, " +
                                              std::to_string(limit) + "]; rescale or clip the input");
    }
    if ((last_has_activation() && !out_activations) || (!last_has_activation() && !out_potentials))
        throw Error(ErrorKind::InvalidArgument, "forward: missing output buffer for the last layer's output type");

    const int n_threads = resolve_threads(threads, batch);
    std::vector<std::unique_ptr<Workspace>> workspaces = acquire_workspaces(n_threads);
    std::vector<std::thread> pool;
    std::exception_ptr failure;
    std::mutex failure_mutex;
    auto work = [&](int t) {
        const int64_t begin = batch * t / n_threads, end = batch * (t + 1) / n_threads;
        try {
            run_samples(input, begin, end - begin, out_activations, out_potentials, *workspaces[t]);
        } catch (...) {
            std::lock_guard<std::mutex> lock(failure_mutex);
            failure = std::current_exception();
        }
    };
    for (int t = 1; t < n_threads; ++t) pool.emplace_back(work, t);
    work(0);
    for (auto& th : pool) th.join();

    std::vector<LayerStatistics> stats(layers_.size());
    for (size_t li = 0; li < layers_.size(); ++li) {
        stats[li].name = layers_[li]->spec->name;
        stats[li].samples = batch;
        stats[li].input_size = layers_[li]->input_size();
        for (auto& ws : workspaces) {
            stats[li].input_events += ws->stats[li].input_events;
            stats[li].output_events += ws->stats[li].output_events;
            stats[li].synaptic_ops += ws->stats[li].synaptic_ops;
        }
    }
    release_workspaces(std::move(workspaces));
    if (failure) std::rethrow_exception(failure);
    std::lock_guard<std::mutex> lock(stats_mutex_);
    last_stats_ = std::move(stats);
}

std::vector<std::unique_ptr<Engine::Workspace>> Engine::acquire_workspaces(int count) {
    std::vector<std::unique_ptr<Workspace>> out;
    {
        std::lock_guard<std::mutex> lock(pool_mutex_);
        while (static_cast<int>(out.size()) < count && !idle_.empty()) {
            out.push_back(std::move(idle_.back()));
            idle_.pop_back();
        }
    }
    while (static_cast<int>(out.size()) < count) {
        auto ws = std::make_unique<Workspace>();
        size_t act = 0, pot = 0, pooled = 0;
        for (const auto& L : layers_) {
            act = std::max(act, static_cast<size_t>(L->output_size()));
            pot = std::max(pot, static_cast<size_t>(L->positions() * L->filters_padded));
            pooled = std::max(pooled, static_cast<size_t>(L->output_size()));
            ws->scratch.reserve_for(*L);
        }
        ws->activations[0].resize(act);
        ws->activations[1].resize(act);
        ws->potentials.resize(pot);
        ws->pooled.resize(pooled);
        out.push_back(std::move(ws));
    }
    for (auto& ws : out) ws->stats.assign(layers_.size(), LayerStatistics{});
    return out;
}

void Engine::release_workspaces(std::vector<std::unique_ptr<Workspace>> workspaces) {
    std::lock_guard<std::mutex> lock(pool_mutex_);
    for (auto& ws : workspaces) idle_.push_back(std::move(ws));
}

void Engine::forward(const uint8_t* input, int64_t batch, Output& out, int threads) {
    const int64_t n = batch * layers_.back()->output_size();
    out.has_activation = last_has_activation();
    if (out.has_activation) {
        out.activations.resize(n);
        out.potentials.clear();
        forward(input, batch, out.activations.data(), nullptr, threads);
    } else {
        out.potentials.resize(n);
        out.activations.clear();
        forward(input, batch, nullptr, out.potentials.data(), threads);
    }
}

void Engine::predict(const uint8_t* input, int64_t batch, float* out, int threads) {
    if (last_has_activation())
        throw Error(ErrorKind::Engine, "predict: the last layer '" + spec_.layers.back().name +
                                           "' has an activation; only models whose last layer has no activation "
                                           "can be evaluated (use forward() for its activations)");
    const CompiledLayer& L = *layers_.back();
    const int64_t per_sample = L.output_size(), F = L.filters;
    std::vector<int32_t> potentials(static_cast<size_t>(batch * per_sample));
    forward(input, batch, nullptr, potentials.data(), threads);
    const std::vector<float>& step = L.spec->act_step;
    for (int64_t i = 0; i < batch * per_sample; ++i) {
        const int64_t f = i % F;
        // The difference is exact (no int32 wrap), then rounded once to float32 (SPEC C.7).
        out[i] = static_cast<float>(int64_t{potentials[i]} - L.threshold[f]) / step[f];
    }
}

}  // namespace akq
