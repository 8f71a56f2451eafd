// model.map(device): which layers run on the chip, on which NPs, in which sequences (docs/spec D.2).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "akq/device/akd1000.hpp"
#include "akq/device/constraints.hpp"
#include "akq/model.hpp"

namespace akq::device {

enum class Backend : uint8_t { Hardware = 0, Software = 1 };

// Minimal: as few NPs as each layer needs (the reference mapper of docs/spec D, and the golden cases).
// AllNps: then cap the filters per NP of every CNP layer as low as the device allows, for throughput
// (the default of later akida releases: akida 2.19's map(mode=MapMode.AllNps)).
enum class MapMode : uint8_t { Minimal = 0, AllNps = 1 };

struct NpAllocation {
    NpIdent ident;
    NpType type = NpType::CNP1;
    int32_t filters = 0;
};

struct LayerMapping {
    std::string layer;
    std::vector<NpAllocation> nps;  // empty: the layer runs in software
};

// Consecutive layers with the same backend. A hardware sequence that needs more NPs than the device has
// is programmed in several passes, each reusing the NPs.
struct Sequence {
    std::string name;  // "HW/<first>-<last>" or "SW/<first>-<last>" ("HW/<layer>" for one layer)
    Backend backend = Backend::Software;
    std::vector<std::vector<std::string>> passes;
    int64_t program_bytes = 0;  // hardware only: estimated size of the program (see program_size.cpp)
};

struct Mapping {
    std::vector<Sequence> sequences;
    std::vector<LayerMapping> layers;  // every layer but InputData, in model order
};

// Every problem that keeps a layer of `m` off the chip, as if all of it had to run there (hw_only=True),
// without stopping at the first one.
std::vector<Problem> check_hardware(const ModelSpec& m);

// Map `m` on `d`. With hw_only, the first problem throws akq::Error(Hardware) with its message;
// otherwise layers that cannot run on the chip become software sequences.
Mapping map_model(const ModelSpec& m, const Device& d, bool hw_only, MapMode mode = MapMode::Minimal);

}  // namespace akq::device
