#include "akq/device/akd1000.hpp"

#include <algorithm>

namespace akq::device {

const char* np_type_name(NpType t) {
    switch (t) {
        case NpType::HRC: return "HRC";
        case NpType::CNP1: return "CNP1";
        case NpType::CNP2: return "CNP2";
        case NpType::FNP2: return "FNP2";
        case NpType::FNP3: return "FNP3";
    }
    return "?";
}

bool NeuralProcessor::can(NpType t) const { return std::find(types.begin(), types.end(), t) != types.end(); }

Device akd1000_device() {
    using namespace akd1000;
    Device d;
    d.name = "AKD1000";
    d.version = "BC.00.000.002";
    d.hrc = NpIdent{0, 0, 0};
    for (int32_t col = 1; col <= kMeshCols; ++col)
        for (int32_t row = 1; row <= kMeshRows; ++row)
            for (int32_t id = 0; id < kNpsPerNode; ++id) {
                const bool partial = col == kPartialNodeCol && row == kPartialNodeRow;
                if (partial && id < 2) continue;
                NeuralProcessor np{NpIdent{col, row, id}, {NpType::CNP1}};
                if (col == kFnp2NodeCol && row == kFnp2NodeRow)
                    np.types.push_back(NpType::FNP2);
                else if (!partial)
                    np.types.push_back(id == 0 ? NpType::FNP3 : NpType::CNP2);
                d.nps.push_back(std::move(np));
            }
    // Allocation order: the least capable NPs first, so FNP-capable NPs stay free for dense layers
    // (the reference also starts with the CNP1-only NPs (3,1,2), (3,1,3) [golden hw_map]).
    auto rank = [](const NeuralProcessor& np) {
        if (np.can(NpType::FNP3)) return 3;
        if (np.can(NpType::FNP2)) return 2;
        if (np.can(NpType::CNP2)) return 1;
        return 0;
    };
    std::stable_sort(d.nps.begin(), d.nps.end(),
                     [&](const NeuralProcessor& a, const NeuralProcessor& b) { return rank(a) < rank(b); });
    return d;
}

}  // namespace akq::device
