#include "akq/device/performance.hpp"

#include <algorithm>
#include <cmath>

#include "akq/device/capacity.hpp"
#include "akq/device/program_size.hpp"
#include "akq/error.hpp"

namespace akq::device {

namespace {

using namespace perf;

double positions(const std::array<int32_t, 2>& size) { return static_cast<double>(size[0]) * size[1]; }


double input_size(const LayerSpec& l) {
    return static_cast<double>(l.input_dims[0]) * l.input_dims[1] * l.input_dims[2];
}

// Updates caused by `events` non-zero inputs when the engine did not count them: each input reaches
// (k/s)^2 output positions on average; a separable layer's pointwise part runs over every depthwise
// result that at least one event touched.
double derived_synaptic_ops(const LayerSpec& l, double events) {
    const double k2 = static_cast<double>(l.kernel_size[0]) * l.kernel_size[1];
    const double reach = k2 / (static_cast<double>(l.kernel_stride[0]) * l.kernel_stride[1]);
    const double conv_positions = positions(conv_output_size(l));
    switch (l.type) {
        case LayerType::InputConvolutional: return conv_positions * k2 * l.input_dims[2] * l.filters;
        case LayerType::Convolutional: return events * reach * l.filters;
        case LayerType::SeparableConvolutional: {
            const double density = std::min(1.0, events / input_size(l));
            const double touched = 1.0 - std::pow(1.0 - density, k2);
            return events * reach + conv_positions * l.input_dims[2] * touched * l.filters;
        }
        case LayerType::FullyConnected: return events * l.filters;
        case LayerType::InputData: return 0;
    }
    return 0;
}

struct NpLoad {
    double cycles = 0;
    NpIdent ident;
};

// The slowest NP of a CNP layer: events split over strips (with a halo), updates and emitted events over
// the filter groups.
NpLoad cnp_load(const LayerSpec& l, const LayerMapping& lm, double events, double ops, double out_events,
                int32_t input_bits) {
    const CnpSplit split = split_cnp_layer(l, 1, input_bits);
    const double strips = std::max(1, split.strips);
    const double halo = strips > 1 ? 1.0 + (l.kernel_size[0] - 1.0) / split.strip_width : 1.0;
    const double strip_events = events / strips * halo;
    NpLoad worst;
    for (const NpAllocation& np : lm.nps) {
        const double share = static_cast<double>(np.filters) / l.filters / strips;
        const double cycles = strip_events * kEventCycles + ops * halo * share / kSynapsesPerCycle +
                              out_events * share * kEmitCycles;
        if (cycles > worst.cycles) worst = {cycles, np.ident};
    }
    return worst;
}

NpLoad layer_load(const LayerSpec& l, const LayerMapping& lm, const LayerActivity& a, double ops, int32_t input_bits) {
    switch (l.type) {
        case LayerType::InputConvolutional:
            return {input_size(l) / kHrcValuesPerCycle + ops / kHrcMacsPerCycle + a.output_events * kEmitCycles,
                    lm.nps.front().ident};
        case LayerType::FullyConnected:
            return {a.input_events * kEventCycles + ops / kFnpSynapsesPerCycle + a.output_events * kEmitCycles,
                    lm.nps.front().ident};
        default: return cnp_load(l, lm, a.input_events, ops, a.output_events, input_bits);
    }
}

}  // namespace

PerformanceReport estimate_performance(const ModelSpec& m, const Mapping& mapping,
                                       const std::vector<LayerActivity>& activity, double clock_hz) {
    if (!(clock_hz > 0)) throw Error(ErrorKind::InvalidArgument, "clock_hz must be positive");
    std::vector<const LayerSpec*> layers;
    std::vector<int32_t> input_bits;
    for (size_t i = 0; i < m.layers.size(); ++i)
        if (m.layers[i].type != LayerType::InputData) {
            layers.push_back(&m.layers[i]);
            input_bits.push_back(input_bits_after(i ? &m.layers[i - 1] : nullptr));
        }
    if (layers.size() != mapping.layers.size() || activity.size() != layers.size())
        throw Error(ErrorKind::InvalidArgument,
                    "performance: expected one mapping and one activity entry per layer (InputData excluded): " +
                        std::to_string(layers.size()) + " layers, " + std::to_string(mapping.layers.size()) +
                        " mapped, " + std::to_string(activity.size()) + " activities; map the model again");
    PerformanceReport r;
    r.clock_hz = clock_hz;
    for (const Sequence& s : mapping.sequences)
        if (s.backend == Backend::Hardware) r.program_bytes += s.program_bytes;
    for (size_t i = 0; i < layers.size(); ++i) {
        const LayerSpec& l = *layers[i];
        const LayerMapping& lm = mapping.layers[i];
        const LayerActivity& a = activity[i];
        LayerPerformance p;
        p.layer = l.name;
        p.input_events = a.input_events;
        p.output_events = a.output_events;
        p.synaptic_ops = a.synaptic_ops >= 0 ? a.synaptic_ops : derived_synaptic_ops(l, a.input_events);
        p.program_bytes = (weight_bits(l) + 7) / 8;
        if (!lm.nps.empty()) {
            p.backend = Backend::Hardware;
            p.nps = static_cast<int32_t>(lm.nps.size());
            if (l.type != LayerType::InputConvolutional) r.hardware_nps += p.nps;
            const NpLoad load = layer_load(l, lm, a, p.synaptic_ops, input_bits[i]);
            p.cycles = load.cycles + a.output_events / kMeshEventsPerCycle + kHopCycles;
            p.bottleneck_np = {load.ident.col, load.ident.row, load.ident.id};
            const double weight_fetch = a.input_events * (p.synaptic_ops > 0 && a.input_events > 0
                                                              ? p.synaptic_ops / a.input_events * l.weights_bits
                                                              : 0);
            p.dynamic_energy_j = p.synaptic_ops * kEnergyPerSynapticOp +
                                 (a.input_events + a.output_events) * kEnergyPerEvent +
                                 weight_fetch * kEnergyPerWeightBit;
            r.frame_cycles += p.cycles;
            if (p.cycles > r.pipeline_cycles) {
                r.pipeline_cycles = p.cycles;
                r.bottleneck_layer = p.layer;
            }
            r.dynamic_energy_j += p.dynamic_energy_j;
        }
        r.layers.push_back(p);
    }
    r.latency_s = r.frame_cycles / clock_hz;
    r.frames_per_s = r.pipeline_cycles > 0 ? clock_hz / r.pipeline_cycles : 0;
    r.static_energy_j = r.frames_per_s > 0 ? kStaticPowerW / r.frames_per_s : 0;
    return r;
}

}  // namespace akq::device
