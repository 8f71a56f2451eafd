// An estimate, not the reference's encoding (which is not published): a fixed header per sequence,
// a configuration block per NP, and per neuron its weights (packed at weights_bits) plus threshold
// and step words. Constants from a least-squares fit to the golden cases' program_bytes
// (tests/test_device_mapping.py reports the error).
#include "akq/device/program_size.hpp"

namespace akq::device {

namespace {
constexpr int64_t kSequenceHeaderBytes = 512;
constexpr int64_t kNpConfigBytes = 64;
constexpr int64_t kNeuronBytes = 8;  // threshold + step, 32 bits each
}  // namespace

int64_t weight_bits(const LayerSpec& l) {
    int64_t bits = static_cast<int64_t>(l.weights.data.size()) * l.weights_bits;
    bits += static_cast<int64_t>(l.weights_pw.data.size()) * l.weights_bits;
    return bits;
}

int64_t program_bytes(const std::vector<const LayerSpec*>& layers, const std::vector<LayerMapping>& mapped) {
    int64_t bytes = kSequenceHeaderBytes;
    for (size_t i = 0; i < layers.size(); ++i) {
        bytes += (weight_bits(*layers[i]) + 7) / 8 + kNeuronBytes * layers[i]->filters;
        bytes += kNpConfigBytes * static_cast<int64_t>(mapped[i].nps.size());
    }
    return bytes;
}

}  // namespace akq::device
