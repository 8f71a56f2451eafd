// Cycle-approximate performance and energy model of a mapped model on the AKD1000.
//
// Every assumption and constant of the model is here, with its source:
//  * Event-driven CNPs/FNPs [docs/spec D.7.2]: work scales with the non-zero inputs (events) a
//    layer receives, not with its dense size. An NP spends, per frame,
//        events_np * kEventCycles                 (decode an incoming event, look up its weights)
//      + synaptic_ops_np / kSynapsesPerCycle      (potential updates, kSynapsesPerCycle lanes in parallel)
//      + out_events_np * kEmitCycles              (neurons that fire: threshold, quantize, emit)
//    where a layer split in strips along axis 0 sends each event to the strip(s) whose window holds it
//    (a halo of k-1 columns is seen by two strips) and each NP updates only its own filters.
//  * The HRC converts 8-bit pixels densely: input values / kHrcValuesPerCycle + MACs / kHrcMacsPerCycle.
//  * Transfers: output events cross the mesh at kMeshEventsPerCycle per layer, plus kHopCycles per frame.
//  * Pipelining: layers on different NPs work on different frames at once, so a stream of frames costs
//    latency + (frames - 1) * the slowest layer's cycles; one frame alone costs the sum over layers
//    (no overlap inside a frame: an upper bound for latency).
//  * Energy per frame = dynamic (kEnergyPerSynapticOp per update, kEnergyPerEvent per event moved,
//    kEnergyPerWeightBit per weight bit fetched per event) + static (kStaticPowerW * frame time).
// Constants marked [CAL] are calibrated on the published AKD1000 figures (bench/device.py prints the
// comparison, tests/test_device_calibration.py pins it): AkidaNet 0.5/224 at 43.0 M clocks per 10 frames
// and ~2.5 mJ dynamic per frame, DS-CNN KWS at 93,965 clocks [docs/spec D.7.3],
// both mapped on all NPs as akida 2.19 does (68 and 65 NPs), with synthetic weights and half the
// activations zero (tests/published_models.py). kEventCycles and kSynapsesPerCycle were refitted when the
// all-NPs mapping became akida's (it had spread AkidaNet's standard convolutions over 78 NPs).
#pragma once
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "akq/device/mapper.hpp"
#include "akq/model.hpp"

namespace akq::device {

namespace perf {
constexpr double kEventCycles = 3.25;           // [CAL] per event reaching an NP
constexpr double kSynapsesPerCycle = 6.0;       // [CAL] CNP potential updates per cycle
constexpr double kEmitCycles = 1.0;             // [CAL] per output event an NP emits
constexpr double kFnpSynapsesPerCycle = 2.0;    // [CAL] FNP updates per cycle
constexpr double kHrcValuesPerCycle = 1.0;      // [CAL] pixels read per cycle by the HRC
constexpr double kHrcMacsPerCycle = 64.0;       // [CAL] HRC multiply-accumulates per cycle
constexpr double kMeshEventsPerCycle = 1.0;     // [CAL] events a layer can send over the mesh per cycle
constexpr double kHopCycles = 64.0;             // per layer-to-layer handover per frame (assumption)
constexpr double kDefaultClockHz = 187e6;       // 43.48 frames/s * 4.3 M clocks/frame [docs/spec D.7.3]
constexpr double kEnergyPerSynapticOp = 13e-12; // [CAL] J; accumulate + SRAM potential read/write
constexpr double kEnergyPerEvent = 20e-12;      // [CAL] J; mesh packet and decode
constexpr double kEnergyPerWeightBit = 0.1e-12; // [CAL] J; weight SRAM read per bit
constexpr double kStaticPowerW = 0.912;         // board floor while idle [docs/spec D.7.3: 912 mW]
}  // namespace perf

// What the engine measured for one layer, per frame (averaged over a batch). synaptic_ops < 0 means
// "not measured": the model then derives it from the events and the layer's shape.
struct LayerActivity {
    double input_events = 0;
    double output_events = 0;
    double synaptic_ops = -1;
};

struct LayerPerformance {
    std::string layer;
    Backend backend = Backend::Software;
    int32_t nps = 0;
    double input_events = 0, output_events = 0, synaptic_ops = 0;
    double cycles = 0;  // of the slowest NP of the layer, including its output transfer
    std::tuple<int32_t, int32_t, int32_t> bottleneck_np{0, 0, 0};
    double dynamic_energy_j = 0;
    int64_t program_bytes = 0;  // weights of this layer as programmed (bits / 8)
};

struct PerformanceReport {
    std::vector<LayerPerformance> layers;
    double frame_cycles = 0;     // one frame through every hardware layer (latency)
    double pipeline_cycles = 0;  // per frame in a stream: the slowest hardware layer
    std::string bottleneck_layer;
    double clock_hz = perf::kDefaultClockHz;
    double latency_s = 0, frames_per_s = 0;
    double dynamic_energy_j = 0, static_energy_j = 0;
    int64_t program_bytes = 0;
    int32_t hardware_nps = 0;  // excluding the HRC, as the reference counts
};

// `activity` has one entry per mapped layer (model order, InputData excluded).
PerformanceReport estimate_performance(const ModelSpec& m, const Mapping& mapping,
                                       const std::vector<LayerActivity>& activity, double clock_hz);

}  // namespace akq::device
