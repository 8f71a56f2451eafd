// Akida 1.0 edge learning (docs/learning.md): each sample's winning unit swaps connections from its
// silent inputs to active ones it misses, spread evenly over both lists by a running counter.
#include "akq/engine/learning.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "akq/arithmetic.hpp"
#include "akq/error.hpp"

namespace akq {

namespace {

[[noreturn]] void refuse(const LayerSpec& l, const std::string& rule) {
    throw Error(ErrorKind::Learning, "layer '" + l.name + "' cannot learn: " + rule);
}

int32_t fan_in(const LayerSpec& l) { return l.input_dims[0] * l.input_dims[1] * l.input_dims[2]; }

// splitmix64: a small, portable generator, so a seed draws the same weights on every platform.
class Draw {
public:
    explicit Draw(uint64_t seed) : state_(seed) {}
    uint64_t next() {
        uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    uint64_t below(uint64_t bound) {  // uniform in [0, bound), by rejection
        const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
        uint64_t v;
        do v = next(); while (v >= limit);
        return v % bound;
    }

private:
    uint64_t state_;
};

// Units [first, units) of the (1, 1, F, U) weights get num_weights ones at distinct drawn positions.
void draw_weights(LayerSpec& l, int32_t first, int32_t num_weights, uint64_t seed) {
    const int32_t f = fan_in(l), units = l.filters;
    Draw draw(seed);
    std::vector<int32_t> order(static_cast<size_t>(f));
    for (int32_t u = first; u < units; ++u) {
        std::iota(order.begin(), order.end(), 0);
        for (int32_t j = 0; j < num_weights; ++j) {  // partial Fisher-Yates
            std::swap(order[j], order[j + draw.below(static_cast<uint64_t>(f - j))]);
            l.weights.data[static_cast<size_t>(order[j]) * units + u] = 1;
        }
    }
}

// `take` of the `size` ranks of a candidate list, spread evenly: block j of the list (the first
// size % take blocks one longer) gives its rank counter % length, and the counter moves on by one.
void spread(int64_t size, int64_t take, int64_t& counter, std::vector<int64_t>& ranks) {
    ranks.clear();
    const int64_t q = size / take, r = size % take;
    for (int64_t j = 0; j < take; ++j) {
        const int64_t length = q + (j < r ? 1 : 0);
        counter %= length;
        ranks.push_back(j * q + std::min(j, r) + counter);
        ++counter;
    }
}

struct Learner {
    LayerSpec& layer;
    LearningRule rule;
    int64_t& counter;
    std::vector<int32_t> silent, missed;  // connected inputs at 0, unconnected inputs at 1
    std::vector<int64_t> silent_ranks, missed_ranks;

    void learn(int32_t unit, const std::vector<uint8_t>& x, int32_t potential) {
        const int32_t units = layer.filters;
        int8_t* w = layer.weights.data.data();
        silent.clear();
        missed.clear();
        for (int32_t i = 0; i < static_cast<int32_t>(x.size()); ++i) {
            const bool connected = w[static_cast<size_t>(i) * units + unit] != 0;
            if (connected && !x[i]) silent.push_back(i);
            if (!connected && x[i]) missed.push_back(i);
        }
        int32_t& swaps = layer.thswap[unit];
        const int64_t k = std::min<int64_t>({swaps, static_cast<int64_t>(silent.size()),
                                             static_cast<int64_t>(missed.size())});
        if (k > 0) {
            spread(static_cast<int64_t>(silent.size()), k, counter, silent_ranks);
            spread(static_cast<int64_t>(missed.size()), k, counter, missed_ranks);
            for (int64_t j = 0; j < k; ++j) {
                w[static_cast<size_t>(silent[silent_ranks[j]]) * units + unit] = 0;
                w[static_cast<size_t>(missed[missed_ranks[j]]) * units + unit] = 1;
            }
            layer.threshold_learning[unit] = std::min(potential, rule.threshold_cap);
        }
        swaps = static_cast<int32_t>(std::max<int64_t>(int64_t{swaps} - rule.swap_decay, rule.min_swaps));
    }
};

}  // namespace

LearningRule learning_rule(const LearningParams& p) {
    const double n = p.num_weights;
    const double initial = std::floor(p.initial_plasticity * n + 0.5);
    return {static_cast<int32_t>(initial), static_cast<int32_t>(std::ceil(p.plasticity_decay * initial)),
            static_cast<int32_t>(std::ceil(p.min_plasticity * n)),
            static_cast<int32_t>(std::floor((1.0 - p.learning_competition) * n + 0.5))};
}

void check_learnable(const ModelSpec& model, const LearningParams& p) {
    if (model.layers.size() < 2)
        throw Error(ErrorKind::Learning, "only a model of at least two layers can learn: an input layer, then a "
                                         "FullyConnected last layer with 1-bit weights and no activation");
    const LayerSpec& l = model.layers.back();
    const LayerSpec& prev = model.layers[model.layers.size() - 2];
    if (l.type != LayerType::FullyConnected)
        refuse(l, "only a FullyConnected last layer learns; end the model with FullyConnected(units, "
                  "weights_bits=1, activation=False)");
    if (l.weights_bits != 1)
        refuse(l, "it has weights_bits=" + std::to_string(l.weights_bits) + "; only 1-bit weights learn");
    if (l.activation) refuse(l, "it has an activation; the learning layer must have activation=False");
    const int32_t in_bits = prev.type == LayerType::InputData ? prev.input_bits : prev.act_bits;
    if (in_bits != 1)
        refuse(l, "its input '" + prev.name + "' is " + std::to_string(in_bits) +
                      "-bit; only binary inputs learn (input_bits=1 or act_bits=1 before it)");
    for (double v : {p.initial_plasticity, p.learning_competition, p.min_plasticity, p.plasticity_decay})
        if (!(v >= 0.0 && v <= 1.0))
            refuse(l, "every plasticity parameter and learning_competition must be in [0, 1], got " + std::to_string(v));
    if (p.num_weights < 1 || p.num_weights > fan_in(l))
        refuse(l, "num_weights=" + std::to_string(p.num_weights) + " must be in [1, " + std::to_string(fan_in(l)) +
                      "], the layer's fan-in");
    if (p.num_classes < 1 || l.filters % p.num_classes != 0)
        refuse(l, std::to_string(l.filters) + " units cannot be split evenly into num_classes=" +
                      std::to_string(p.num_classes) + "; use a multiple of num_classes units");
}

void check_learning(const ModelSpec& model) {
    check_learnable(model, *model.learning);
    const LayerSpec& l = model.layers.back();
    if (l.thswap.size() != static_cast<size_t>(l.filters))
        refuse(l, "a compiled last layer needs threshold_learning and thswap, one value per unit");
}

void compile_learning(ModelSpec& model, const LearningParams& p, uint64_t seed) {
    if (model.learning) throw Error(ErrorKind::LearningState, "the model is already compiled for learning");
    check_learnable(model, p);
    LayerSpec& l = model.layers.back();
    std::fill(l.weights.data.begin(), l.weights.data.end(), int8_t{0});
    draw_weights(l, 0, p.num_weights, seed);
    l.threshold_learning.assign(static_cast<size_t>(l.filters), 0);
    l.thswap.assign(static_cast<size_t>(l.filters), learning_rule(p).initial_swaps);
    model.learning = p;
}

void add_learning_classes(ModelSpec& model, int32_t count, uint64_t seed) {
    if (!model.learning) throw Error(ErrorKind::LearningState, "add_classes: compile the model for learning first");
    LearningParams& p = *model.learning;
    LayerSpec& l = model.layers.back();
    const int32_t per_class = l.filters / p.num_classes, old_units = l.filters;
    if (count < 1 || int64_t{count} * per_class + old_units > 65536)
        throw Error(ErrorKind::Learning, "add_classes: the count must be at least 1 and keep the layer within "
                                         "65536 units, got " + std::to_string(count));
    const int32_t units = old_units + count * per_class, f = fan_in(l);
    std::vector<int8_t> weights(static_cast<size_t>(f) * units, 0);
    for (int32_t i = 0; i < f; ++i)
        std::copy_n(l.weights.data.begin() + static_cast<size_t>(i) * old_units, old_units,
                    weights.begin() + static_cast<size_t>(i) * units);
    l.weights.data = std::move(weights);
    l.weights.shape[3] = units;
    l.filters = units;
    l.output_dims[2] = units;
    l.threshold.resize(static_cast<size_t>(units), 0);
    l.act_step.resize(static_cast<size_t>(units), 1.0f);
    l.threshold_learning.resize(static_cast<size_t>(units), 0);
    l.thswap.resize(static_cast<size_t>(units), learning_rule(p).initial_swaps);
    draw_weights(l, old_units, p.num_weights, seed);
    p.num_classes += count;
}

std::vector<int32_t> fit_last_layer(LayerSpec& l, const LearningParams& p, const uint8_t* inputs, int64_t samples,
                                    const std::vector<int32_t>& labels, int64_t& counter) {
    if (l.thswap.size() != static_cast<size_t>(l.filters))
        throw Error(ErrorKind::LearningState, "fit: compile the model for learning first "
                                              "(model.compile(akq.AkidaUnsupervised(...)))");
    if (!labels.empty() && labels.size() != 1 && static_cast<int64_t>(labels.size()) != samples)
        throw Error(ErrorKind::Input, "fit: " + std::to_string(labels.size()) + " labels for " +
                                          std::to_string(samples) + " inputs; give one per input or one for all");
    for (int32_t label : labels)
        if (label >= p.num_classes)
            throw Error(ErrorKind::LearningState, "fit: label " + std::to_string(label) + " is beyond the " +
                                                      std::to_string(p.num_classes) + " classes (labels are 0 to " +
                                                      std::to_string(p.num_classes - 1) + "; add_classes adds more)");
    const int32_t d0 = l.input_dims[0], d1 = l.input_dims[1], c = l.input_dims[2], units = l.filters;
    const int32_t per_class = units / p.num_classes;
    Learner learner{l, learning_rule(p), counter, {}, {}, {}, {}};
    std::vector<uint8_t> x(static_cast<size_t>(fan_in(l)));
    std::vector<int32_t> out(static_cast<size_t>(samples) * units);
    for (int64_t s = 0; s < samples; ++s) {
        const uint8_t* in = inputs + s * static_cast<int64_t>(x.size());
        for (int32_t i = 0; i < d0; ++i)  // FC flatten: axis 0 fastest (index ch*D1*D0 + j*D0 + i)
            for (int32_t j = 0; j < d1; ++j)
                for (int32_t ch = 0; ch < c; ++ch)
                    x[(static_cast<size_t>(ch) * d1 + j) * d0 + i] = in[(i * d1 + j) * c + ch] != 0;
        int32_t* pot = out.data() + s * units;
        const int8_t* w = l.weights.data.data();
        for (size_t i = 0; i < x.size(); ++i)
            if (x[i])
                for (int32_t u = 0; u < units; ++u) pot[u] += w[i * units + u];
        for (int32_t u = 0; u < units; ++u) pot[u] = std::min(pot[u], arithmetic::kPotentialMax);  // 20-bit FC sums
        const int32_t label = labels.empty() ? -1 : labels[labels.size() == 1 ? 0 : s];
        const int32_t first = label < 0 ? 0 : label * per_class, end = label < 0 ? units : first + per_class;
        int32_t winner = -1;
        for (int32_t u = first; u < end; ++u)
            if (pot[u] > l.threshold_learning[u] && (winner < 0 || pot[u] > pot[winner])) winner = u;
        if (winner >= 0) learner.learn(winner, x, pot[winner]);
    }
    return out;
}

}  // namespace akq
