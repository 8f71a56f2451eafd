// The integer inference engine (docs/spec C): compiles a ModelSpec into a plan once, then runs batches of
// uint8 inputs through it, bit-exactly, on any number of threads. No Python in here.
#pragma once
#include <cstdint>
#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "akq/model.hpp"

namespace akq {

struct CompiledLayer;
struct Sharing;

// What one forward produced for the last layer: uint8 activations or int32 potentials, (N, O0, O1, F).
struct Output {
    bool has_activation = true;
    std::vector<uint8_t> activations;  // when has_activation
    std::vector<int32_t> potentials;   // otherwise (after pooling/saturation, threshold not subtracted)
};

// Per-layer counts of the last forward (summed over the batch). See runtime.statistics().
struct LayerStatistics {
    std::string name;
    int64_t samples = 0;
    int64_t input_size = 0;    // input values per sample
    int64_t input_events = 0;  // non-zero input values
    int64_t output_events = 0; // non-zero outputs
    int64_t synaptic_ops = 0;  // weight operations triggered by the input events
};

class Engine {
public:
    // Validates the spec (check_model) and the engine's own preconditions (e.g. zero activation
    // steps), then lays the weights out for the kernels. Throws akq::Error.
    explicit Engine(const ModelSpec& spec);
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // Runs `batch` samples of input_size() bytes each (row-major (D0, D1, C)). threads <= 0 means all
    // cores. Throws Error(Input) for values beyond InputData's input_bits.
    void forward(const uint8_t* input, int64_t batch, Output& out, int threads = 0);
    // Same, into caller-owned memory of batch * output size: `activations` when the last layer has an
    // activation (or is InputData), else `potentials`.
    void forward(const uint8_t* input, int64_t batch, uint8_t* activations, int32_t* potentials, int threads = 0);

    // float32(p - th) / float32(act_step) of the last layer's potentials (docs/spec C.7); throws
    // Error(Engine) when the last layer has an activation.
    void predict(const uint8_t* input, int64_t batch, float* out, int threads = 0);

    int64_t input_size() const;                 // values per input sample
    std::array<int32_t, 3> input_dims() const;
    std::array<int32_t, 3> output_dims() const;
    bool last_has_activation() const;
    std::vector<LayerStatistics> statistics() const;  // empty before the first forward

private:
    struct Workspace;
    struct Helpers;  // threads that share the large layers of one sample (null: none)
    void run_samples(const uint8_t* input, int64_t first, int64_t count, uint8_t* out_activations,
                     int32_t* out_potentials, Workspace& ws, Helpers* helpers) const;
    // Potentials of one sample of a large layer, shared between ws and the helpers' threads; with
    // `activations`, each thread then activates its rows there (a sharing by rows). Returns the
    // synaptic operations and adds the non-zero outputs to *events.
    int64_t share_sample(const CompiledLayer& L, const Sharing& sharing, const uint8_t* input, Workspace& ws,
                         Helpers& helpers, uint8_t* activations, int32_t* cell_events, int64_t* events) const;
    // Per-thread scratch is kept between calls: a forward allocates nothing once warm.
    std::vector<std::unique_ptr<Workspace>> acquire_workspaces(int count);
    void release_workspaces(std::vector<std::unique_ptr<Workspace>> workspaces);

    ModelSpec spec_;
    std::vector<std::unique_ptr<CompiledLayer>> layers_;
    mutable std::mutex stats_mutex_;
    std::vector<LayerStatistics> last_stats_;
    std::mutex pool_mutex_;
    std::vector<std::unique_ptr<Workspace>> idle_;
};

}  // namespace akq
