#include "akq/device/mapper.hpp"

#include <algorithm>

#include "akq/device/capacity.hpp"
#include "akq/device/program_size.hpp"
#include "akq/error.hpp"

namespace akq::device {

namespace {

std::vector<const LayerSpec*> mappable_layers(const ModelSpec& m) {
    std::vector<const LayerSpec*> out;
    for (const LayerSpec& l : m.layers)
        if (l.type != LayerType::InputData) out.push_back(&l);
    return out;
}

// The input activation bits of each of mappable_layers(m).
std::vector<int32_t> input_bits(const ModelSpec& m) {
    std::vector<int32_t> out;
    for (size_t i = 0; i < m.layers.size(); ++i)
        if (m.layers[i].type != LayerType::InputData) out.push_back(input_bits_after(i ? &m.layers[i - 1] : nullptr));
    return out;
}

void append(std::vector<Problem>& to, std::vector<Problem> from) {
    to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

std::vector<Problem> own_problems(const LayerSpec& l, int32_t bits) {
    std::vector<Problem> p = parameter_problems(l);
    append(p, capacity_problems(l, bits));
    append(p, split_problems(l, bits));
    append(p, programming_problems(l));
    return p;
}

// Hands out the device's NPs in order; `reset` starts a new pass on the same NPs.
class NpPool {
public:
    explicit NpPool(const Device& d) : device_(d), used_(d.nps.size(), false) {}
    void reset() { std::fill(used_.begin(), used_.end(), false); }

    size_t available(NpType t) const {
        size_t n = 0;
        for (size_t i = 0; i < used_.size(); ++i) n += !used_[i] && device_.nps[i].can(t);
        return n;
    }

    NpIdent take(NpType t) {
        for (size_t i = 0; i < used_.size(); ++i)
            if (!used_[i] && device_.nps[i].can(t)) {
                used_[i] = true;
                return device_.nps[i].ident;
            }
        throw Error(ErrorKind::Hardware, "internal: no free NP of the requested type");
    }

private:
    const Device& device_;
    std::vector<bool> used_;
};

bool on_cnps(const LayerSpec& l) {
    return l.type == LayerType::Convolutional || l.type == LayerType::SeparableConvolutional;
}

// Whether a dense layer's weights fit the on-chip memory of an FNP3: every neuron takes kFnp3NeuronWords
// words plus, per 32 inputs, kFnp3WordsPer32Inputs[weights bits] words [measured against akida 2.4.0;
// exact on every (inputs, units, bits) boundary tried]. The larger ones go to an FNP2 (external memory).
bool fits_fnp3(const LayerSpec& l) {
    using namespace akd1000;
    const int64_t wb = l.weights_bits;
    const int64_t per_32 = wb == 1 ? kFnp3WordsPer32Inputs[0] : wb == 2 ? kFnp3WordsPer32Inputs[1]
                           : wb == 4 ? kFnp3WordsPer32Inputs[2] : 0;
    if (per_32 == 0) return false;
    const int64_t inputs = static_cast<int64_t>(l.input_dims[0]) * l.input_dims[1] * l.input_dims[2];
    const int64_t words = (inputs + 31) / 32 * per_32 + kFnp3NeuronWords;
    return l.filters * words <= kFnp3MemoryWords;
}

// The NPs a hardware layer needs: (type, filters) per NP.
std::vector<std::pair<NpType, int32_t>> np_demand(const LayerSpec& l, int32_t bits, int32_t filter_groups = 1) {
    switch (l.type) {
        case LayerType::InputConvolutional: return {{NpType::HRC, 0}};
        case LayerType::FullyConnected: return {{fits_fnp3(l) ? NpType::FNP3 : NpType::FNP2, l.filters}};
        default: {
            std::vector<std::pair<NpType, int32_t>> out;
            for (int32_t f : split_cnp_layer(l, filter_groups, bits).filters) out.emplace_back(NpType::CNP1, f);
            return out;
        }
    }
}

bool fits(const std::vector<std::pair<NpType, int32_t>>& demand, const NpPool& pool) {
    size_t cnp = 0, fnp = 0;
    for (const auto& d : demand) {
        cnp += d.first == NpType::CNP1;
        fnp += d.first == NpType::FNP3 || d.first == NpType::FNP2;
    }
    if (fnp > 0 && pool.available(NpType::FNP3) + pool.available(NpType::FNP2) < fnp) return false;
    return cnp == 0 || pool.available(NpType::CNP1) >= cnp + fnp;
}

std::vector<NpAllocation> allocate(const std::vector<std::pair<NpType, int32_t>>& demand, const Device& d,
                                   NpPool& pool) {
    std::vector<NpAllocation> out;
    for (const auto& [type, filters] : demand) {
        if (type == NpType::HRC) {
            out.push_back({d.hrc, NpType::HRC, 0});
        } else if (type == NpType::FNP3 && pool.available(NpType::FNP3) == 0) {
            out.push_back({pool.take(NpType::FNP2), NpType::FNP2, filters});
        } else if (type == NpType::FNP2 && pool.available(NpType::FNP2) == 0) {  // all 4 taken: an FNP3 then
            out.push_back({pool.take(NpType::FNP3), NpType::FNP3, filters});
        } else {
            out.push_back({pool.take(type), type, filters});
        }
    }
    return out;
}

// Filter groups per layer for the all-NPs mapping: every CNP layer's NPs hold at most t filters, for the
// smallest t with which the sequence still fits `budget` NPs (layers already at t or fewer keep their split).
// This reproduces akida 2.19's default mapping: AkidaNet 0.5/224 at t = 64 (68 NPs), DS-CNN KWS at t = 4
// (65 NPs), a 64-100-30 filter chain at t = 3 (see tests/test_device_mapping.py).
std::vector<int32_t> spread_filter_groups(const std::vector<const LayerSpec*>& layers,
                                          const std::vector<int32_t>& bits, size_t budget) {
    std::vector<int32_t> groups(layers.size(), 1);
    int32_t widest = 0;
    for (const LayerSpec* l : layers)
        if (on_cnps(*l)) widest = std::max(widest, l->filters);
    for (int32_t t = 1; t < widest; ++t) {
        std::vector<int32_t> candidate(layers.size(), 1);
        size_t total = 0;
        for (size_t i = 0; i < layers.size(); ++i) {
            if (on_cnps(*layers[i])) candidate[i] = (layers[i]->filters + t - 1) / t;
            if (layers[i]->type != LayerType::InputConvolutional)
                total += np_demand(*layers[i], bits[i], candidate[i]).size();
        }
        if (total <= budget) return candidate;
    }
    return groups;
}

std::string sequence_name(Backend b, const std::vector<const LayerSpec*>& layers) {
    std::string name = (b == Backend::Hardware ? "HW/" : "SW/") + layers.front()->name;
    if (layers.size() > 1) name += "-" + layers.back()->name;
    return name;
}

// Hardware flags after the sequence rules (a max-pooled layer must be followed by a hardware convolution);
// marking a layer software can break its predecessor, so walk backwards.
std::vector<bool> hardware_layers(const std::vector<const LayerSpec*>& layers, const std::vector<int32_t>& bits) {
    std::vector<bool> hw(layers.size());
    for (size_t i = 0; i < layers.size(); ++i) hw[i] = own_problems(*layers[i], bits[i]).empty();
    for (size_t i = layers.size(); i-- > 0;) {
        if (!hw[i]) continue;
        const LayerSpec* next = i + 1 < layers.size() && hw[i + 1] ? layers[i + 1] : nullptr;
        hw[i] = sequence_problems(*layers[i], next).empty();
    }
    return hw;
}

}  // namespace

// In the reference's order: layer by layer its parameters and its allocation; then the sequence rules, the
// NP count of the whole model and the programming ranges.
std::vector<Problem> check_hardware(const ModelSpec& m) {
    const std::vector<const LayerSpec*> layers = mappable_layers(m);
    const std::vector<int32_t> bits = input_bits(m);
    std::vector<Problem> all;
    size_t hardware_nps = 0;
    for (size_t i = 0; i < layers.size(); ++i) {
        std::vector<Problem> p = parameter_problems(*layers[i]);
        append(p, capacity_problems(*layers[i], bits[i]));
        if (p.empty() && layers[i]->type != LayerType::InputConvolutional)
            hardware_nps += np_demand(*layers[i], bits[i]).size();
        append(p, split_problems(*layers[i], bits[i]));
        append(all, std::move(p));
    }
    for (size_t i = 0; i < layers.size(); ++i)
        append(all, sequence_problems(*layers[i], i + 1 < layers.size() ? layers[i + 1] : nullptr));
    if (hardware_nps > static_cast<size_t>(akd1000::kNpCount) && !layers.empty())
        all.push_back({layers.back()->name, ProblemKind::Mapping,
                       "Model cannot be mapped in one hardware sequence: its layers need " +
                           std::to_string(hardware_nps) + " NPs, the AKD1000 has " + std::to_string(akd1000::kNpCount),
                       "reduce filters or input size, or map with hw_only=False to run it in several passes"});
    for (const LayerSpec* l : layers) append(all, programming_problems(*l));
    return all;
}

Mapping map_model(const ModelSpec& m, const Device& d, bool hw_only, MapMode mode) {
    if (hw_only) {
        const std::vector<Problem> problems = check_hardware(m);
        if (!problems.empty()) throw Error(ErrorKind::Hardware, problems.front().message());
    }
    const std::vector<const LayerSpec*> layers = mappable_layers(m);
    const std::vector<int32_t> all_bits = input_bits(m);
    const std::vector<bool> hw = hardware_layers(layers, all_bits);
    Mapping mapping;
    NpPool pool(d);
    size_t start = 0;
    while (start < layers.size()) {
        size_t end = start;
        while (end < layers.size() && hw[end] == hw[start]) ++end;
        std::vector<const LayerSpec*> members(layers.begin() + static_cast<std::ptrdiff_t>(start),
                                              layers.begin() + static_cast<std::ptrdiff_t>(end));
        const std::vector<int32_t> bits(all_bits.begin() + static_cast<std::ptrdiff_t>(start),
                                        all_bits.begin() + static_cast<std::ptrdiff_t>(end));
        Sequence seq;
        seq.backend = hw[start] ? Backend::Hardware : Backend::Software;
        seq.name = sequence_name(seq.backend, members);
        seq.passes.emplace_back();
        pool.reset();
        std::vector<int32_t> groups(members.size(), 1);
        if (seq.backend == Backend::Hardware && mode == MapMode::AllNps)
            groups = spread_filter_groups(members, bits, d.nps.size());
        std::vector<LayerMapping> mapped;
        for (size_t i = 0; i < members.size(); ++i) {
            const LayerSpec* l = members[i];
            LayerMapping lm{l->name, {}};
            if (seq.backend == Backend::Hardware) {
                const auto demand = np_demand(*l, bits[i], groups[i]);
                if (!fits(demand, pool)) {
                    seq.passes.emplace_back();
                    pool.reset();
                }
                lm.nps = allocate(demand, d, pool);
            }
            seq.passes.back().push_back(l->name);
            mapped.push_back(lm);
        }
        if (seq.backend == Backend::Hardware) seq.program_bytes = program_bytes(members, mapped);
        mapping.layers.insert(mapping.layers.end(), mapped.begin(), mapped.end());
        mapping.sequences.push_back(std::move(seq));
        start = end;
    }
    return mapping;
}

}  // namespace akq::device
