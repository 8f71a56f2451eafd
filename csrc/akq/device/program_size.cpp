// An estimate, not the reference's encoding (which is not published): a configuration block per NP and
// the weights stored at 7/4 of their packed size (padding and per-neuron words). The two constants are a
// least-squares fit to the 59 hardware sequences of the golden cases (median error 11 %, see the report
// of bench/device.py); no exact rule was derived.
#include "akq/device/program_size.hpp"

namespace akq::device {

namespace {
constexpr int64_t kNpConfigBytes = 744;
constexpr int64_t kWeightStorageNum = 7, kWeightStorageDen = 4;  // bytes per packed weight byte
}  // namespace

int64_t weight_bits(const LayerSpec& l) {
    int64_t bits = static_cast<int64_t>(l.weights.data.size()) * l.weights_bits;
    bits += static_cast<int64_t>(l.weights_pw.data.size()) * l.weights_bits;
    return bits;
}

int64_t program_bytes(const std::vector<const LayerSpec*>& layers, const std::vector<LayerMapping>& mapped) {
    int64_t bytes = 0;
    for (size_t i = 0; i < layers.size(); ++i) {
        const int64_t packed = (weight_bits(*layers[i]) + 7) / 8;
        bytes += kNpConfigBytes * static_cast<int64_t>(mapped[i].nps.size());
        bytes += (packed * kWeightStorageNum + kWeightStorageDen - 1) / kWeightStorageDen;
    }
    return bytes;
}

}  // namespace akq::device
