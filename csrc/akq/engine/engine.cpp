// The executor: validates inputs, splits the batch over threads, runs every sample through the
// compiled layers with per-thread scratch (no per-sample allocation), and keeps the statistics.
#include "akq/engine/engine.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>

#include "akq/engine/kernels.hpp"
#include "akq/engine/layer_ops.hpp"
#include "akq/engine/plan.hpp"
#include "akq/engine/workers.hpp"
#include "akq/error.hpp"

namespace akq {

struct Engine::Workspace {
    AlignedVector<uint8_t> activations[2];  // kChunk samples, activation_stride apart
    int64_t activation_stride = 0;
    AlignedVector<int32_t> potentials, pooled;
    std::vector<int32_t> cell_events;  // non-zero outputs per output position of one sample
    Scratch scratch;
    std::vector<LayerStatistics> stats;
};

struct Engine::Helpers {
    std::vector<Workspace*> workspaces;  // one per wanted helper
    std::unique_ptr<Team> started;       // on the first shared layer (a small model shares none)
    int threads() const { return static_cast<int>(workspaces.size()) + 1; }
    Team& team() {
        if (!started) started = std::make_unique<Team>(threads() - 1);
        return *started;
    }
};

namespace {

constexpr int kMaxThreads = 256;  // more only costs workspaces and parked worker threads

// A batch smaller than the cores shares its layers only in a stream of calls, one starting while the
// helpers still poll after the last one's end (any engine's). Waking them for an isolated call costs
// more than they save (on a 2-core VM: DS-CNN 90 us alone, 124 shared).
std::atomic<std::chrono::steady_clock::rep> last_forward_end{0};

bool in_stream() {
    const auto now = std::chrono::steady_clock::now().time_since_epoch();
    return now - std::chrono::steady_clock::duration(last_forward_end.load(std::memory_order_relaxed)) <
           kWorkerIdleSpin;
}

int resolve_threads(int threads, int64_t batch) {
    int n = threads > 0 ? threads : core_count();
    n = std::min(n, kMaxThreads);
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

// The synaptic operations of `consumer` for one sample whose input events per cell are cell_events.
int64_t synaptic_ops(const CompiledLayer& consumer, const int32_t* cell_events) {
    int64_t ops = 0;
    for (size_t cell = 0; cell < consumer.fanout.size(); ++cell) ops += cell_events[cell] * consumer.fanout[cell];
    return ops;
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
    std::vector<LayerStatistics> out;
    {
        std::lock_guard<std::mutex> lock(stats_mutex_);
        out = last_stats_;
    }
    for (size_t li = 0; li < out.size(); ++li) out[li].name = layers_[li]->spec->name;
    return out;
}

void Engine::run_samples(const uint8_t* input, int64_t first, int64_t count, uint8_t* out_activations,
                         int32_t* out_potentials, Workspace& ws, Helpers* helpers) const {
    const size_t n_layers = layers_.size();
    const int64_t out_size = layers_.back()->output_size();
    for (int64_t begin = first; begin < first + count; begin += kChunk) {
        const int64_t samples = std::min(kChunk, first + count - begin);
        const uint8_t* current = input + begin * input_size();
        int64_t stride = input_size();
        // The input events and synaptic operations of a layer whose input the previous activation counted.
        bool counted = false;
        int64_t counted_events = 0, counted_ops = 0;
        for (size_t li = 0; li < n_layers; ++li) {
            const CompiledLayer& L = *layers_[li];
            LayerStatistics& st = ws.stats[li];
            const bool last = li + 1 == n_layers;
            int64_t events = 0;
            if (counted) {
                events = counted_events;
                st.input_events += counted_events;
                st.synaptic_ops += counted_ops;
            } else {
                for (int64_t n = 0; n < samples; ++n) events += count_input_events(L, current + n * stride, st);
            }
            if (L.type == LayerType::InputData) {
                st.output_events += events;  // the layer passes its input through
                if (last) std::copy_n(current, samples * stride, out_activations + begin * out_size);
                continue;
            }
            // Outputs go to the caller's array for the last layer, else to a chunk buffer.
            // (a last layer without activation writes potentials: out_activations is null then)
            uint8_t* next = !last ? ws.activations[li % 2].data()
                                  : out_activations ? out_activations + begin * out_size : nullptr;
            const int64_t next_stride = last ? out_size : ws.activation_stride;
            const int64_t per_call = samples_per_call(L, samples), per_sample = L.positions() * L.filters_padded;
            const CompiledLayer* consumer = !last && L.activation ? layers_[li + 1].get() : nullptr;
            int32_t* cells = consumer ? ws.cell_events.data() : nullptr;
            counted = consumer != nullptr;
            counted_events = counted_ops = 0;
            // One sample's non-zero outputs, which are the consumer's input events (cells: per position).
            auto add_output_events = [&](int64_t out_events) {
                st.output_events += out_events;
                if (consumer) {
                    counted_events += out_events;
                    counted_ops += synaptic_ops(*consumer, cells);
                }
            };
            for (int64_t n0 = 0; n0 < samples; n0 += per_call) {
                const int64_t m = std::min(per_call, samples - n0);
                const uint8_t* in = current + n0 * stride;
                const Sharing sharing = helpers && m == 1 ? share_layer(L, helpers->threads()) : Sharing{};
                if (sharing.parts > 1) {
                    // Shared by rows without pooling, each thread also activates its rows.
                    uint8_t* activated = sharing.by_rows && next && L.activation && L.pool == PoolType::NoPooling
                                             ? next + n0 * next_stride
                                             : nullptr;
                    int64_t out_events = 0;
                    st.synaptic_ops += share_sample(L, sharing, in, ws, *helpers, activated, cells, &out_events);
                    if (activated) {
                        add_output_events(out_events);
                        continue;
                    }
                } else {
                    st.synaptic_ops += compute_potentials(L, in, stride, m, ws.potentials.data(), ws.scratch);
                }
                for (int64_t n = n0; n < n0 + m; ++n) {
                    int32_t* raw = ws.potentials.data() + (n - n0) * per_sample;
                    if (last && !L.activation) {
                        st.output_events += finish_layer(L, raw, ws.pooled.data(), nullptr, nullptr,
                                                         out_potentials + (begin + n) * out_size);
                        continue;
                    }
                    add_output_events(finish_layer(L, raw, ws.pooled.data(), next + n * next_stride, cells, nullptr));
                }
            }
            current = next;
            stride = next_stride;
        }
    }
}

int64_t Engine::share_sample(const CompiledLayer& L, const Sharing& sharing, const uint8_t* input, Workspace& ws,
                             Helpers& helpers, uint8_t* activations, int32_t* cell_events, int64_t* events) const {
    std::vector<int64_t> ops(sharing.parts, 0), part_events(sharing.parts, 0);
    std::exception_ptr failure;
    std::mutex failure_mutex;
    auto part = [&](int64_t p) {
        Scratch& scratch = p == 0 ? ws.scratch : helpers.workspaces[p - 1]->scratch;
        const Share share = sharing.share(p);
        try {
            ops[p] = compute_potentials(L, input, 0, 1, ws.potentials.data(), scratch, share);
            if (activations) part_events[p] = activate_share(L, ws.potentials.data(), share, activations, cell_events);
        } catch (...) {
            std::lock_guard<std::mutex> lock(failure_mutex);
            failure = std::current_exception();
        }
    };
    helpers.team().run(sharing.parts, part);
    if (failure) std::rethrow_exception(failure);
    int64_t total = 0;
    for (int64_t p = 0; p < sharing.parts; ++p) total += ops[p], *events += part_events[p];
    return total;
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
    if (batch == 0) return;  // nothing to run (an empty output's buffer may be null)
    if ((last_has_activation() && !out_activations) || (!last_has_activation() && !out_potentials))
        throw Error(ErrorKind::InvalidArgument, "forward: missing output buffer for the last layer's output type");

    // More threads than samples: one thread runs the samples and the others help with large layers.
    // (Splitting a layer over more threads than cores gains nothing, so the helpers stop there.)
    const int wanted = std::min(threads > 0 ? threads : core_count(), kMaxThreads);
    const int helpers_and_self = std::min(wanted, core_count());
    const bool share_layers = batch > 0 && batch < helpers_and_self && in_stream();
    const int n_threads = share_layers ? 1 : resolve_threads(threads, batch);
    std::vector<std::unique_ptr<Workspace>> workspaces =
        acquire_workspaces(share_layers ? helpers_and_self : n_threads);
    std::unique_ptr<Helpers> helpers;
    if (share_layers) {
        helpers = std::make_unique<Helpers>();
        for (size_t t = 1; t < workspaces.size(); ++t) helpers->workspaces.push_back(workspaces[t].get());
    }
    // The threads take chunks of samples as they go: one that another process slows down (or that
    // starts late) does fewer, and with about 8 chunks per thread the last ones even out.
    const int64_t chunk = n_threads == 1 ? batch : std::clamp<int64_t>(batch / (8 * n_threads), 1, kChunk);
    std::atomic<int64_t> next{0};
    std::exception_ptr failure;
    std::mutex failure_mutex;
    auto work = [&](int64_t t) {
        try {
            for (int64_t begin; (begin = next.fetch_add(chunk)) < batch;)
                run_samples(input, begin, std::min(chunk, batch - begin), out_activations, out_potentials,
                            *workspaces[t], helpers.get());
        } catch (...) {
            next.store(batch);  // the others stop after their current chunk
            std::lock_guard<std::mutex> lock(failure_mutex);
            failure = std::current_exception();
        }
    };
    run_parts(n_threads, work);
    helpers.reset();  // its threads stop polling

    std::vector<LayerStatistics> stats(layers_.size());  // named when asked for: a call copies no string
    for (size_t li = 0; li < layers_.size(); ++li) {
        stats[li].samples = batch;
        stats[li].input_size = layers_[li]->input_size();
        for (auto& ws : workspaces) {
            stats[li].input_events += ws->stats[li].input_events;
            stats[li].output_events += ws->stats[li].output_events;
            stats[li].synaptic_ops += ws->stats[li].synaptic_ops;
        }
    }
    release_workspaces(std::move(workspaces));
    last_forward_end.store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
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
        size_t act = 0, pot = 0, pooled = 0, cells = 0;
        for (const auto& L : layers_) {
            act = std::max(act, static_cast<size_t>(L->output_size()));
            cells = std::max(cells, static_cast<size_t>(L->spec->output_dims[0]) * L->spec->output_dims[1]);
            pot = std::max(pot, static_cast<size_t>(samples_per_call(*L, kChunk) * L->positions() * L->filters_padded));
            pooled = std::max(pooled, static_cast<size_t>(L->output_size()));
            ws->scratch.reserve_for(*L, kChunk);
        }
        ws->activation_stride = static_cast<int64_t>(act);
        ws->activations[0].resize(act * kChunk);
        ws->activations[1].resize(act * kChunk);
        ws->potentials.resize(pot);
        ws->pooled.resize(pooled);
        ws->cell_events.resize(cells);
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
                                           "' has an activation (or is InputData); only models whose last layer "
                                           "has no activation can be evaluated (use forward() for activations)");
    const CompiledLayer& L = *layers_.back();
    const int64_t per_sample = L.output_size(), F = L.filters;
    std::vector<int32_t> potentials(static_cast<size_t>(batch * per_sample));
    forward(input, batch, nullptr, potentials.data(), threads);
    const float* step = L.spec->act_step.data();
    const int32_t* threshold = L.threshold.data();
    for (int64_t row = 0; row < batch * per_sample; row += F)  // rows of F filters (no modulo per value)
        for (int64_t f = 0; f < F; ++f)
            // The difference is exact (no int32 wrap), then rounded once to float32 (docs/spec C.7).
            out[row + f] = static_cast<float>(int64_t{potentials[row + f]} - threshold[f]) / step[f];
}

}  // namespace akq
