// Akida 1.0 edge learning of a model's last layer, bit-exact with the reference runtime: the rule
// measured on akida 2.4.0 and described in docs/learning.md (winner, swaps, plasticity, competition).
#pragma once
#include <cstdint>
#include <vector>

#include "akq/model.hpp"

namespace akq {

// The integers the optimizer's parameters turn into for a layer learning with `p` (docs/learning.md).
struct LearningRule {
    int32_t initial_swaps;   // thswap after compile: round(initial_plasticity * num_weights)
    int32_t swap_decay;      // thswap lost per learning step: ceil(plasticity_decay * initial_swaps)
    int32_t min_swaps;       // floor of thswap: ceil(min_plasticity * num_weights)
    int32_t threshold_cap;   // threshold_learning never exceeds round((1 - learning_competition) * num_weights)
};
LearningRule learning_rule(const LearningParams& p);

// Throws Error(Learning) naming the rule broken unless `model` can learn with `p`: its last layer is
// FullyConnected with 1-bit weights, no activation, a binary input, units a multiple of num_classes,
// 0 < num_weights <= fan-in and every plasticity parameter in [0, 1].
void check_learnable(const ModelSpec& model, const LearningParams& p);

// check_learnable with model.learning, plus the learning variables of the last layer sized to its units.
void check_learning(const ModelSpec& model);

// Compiles `model` for learning with `p`: every unit of the last layer gets exactly num_weights
// weights of 1 at positions drawn from `seed`, threshold_learning 0 and thswap initial_swaps.
// Throws Error(LearningState) if the model is already compiled.
void compile_learning(ModelSpec& model, const LearningParams& p, uint64_t seed);

// Appends `count` classes (count x units-per-class new units, drawn from `seed` as by compile) to a
// compiled model's last layer; the learned units are kept.
void add_learning_classes(ModelSpec& model, int32_t count, uint64_t seed);

// Learns with `p` (the model's learning) in the compiled last layer `l`, from `samples` inputs
// (binary uint8, (D0, D1, C) row-major each, as the engine outputs them), one after the other. `labels` has one label per sample, one for all, or none;
// a negative label means unlabeled (all units compete). `counter` is the rule's running position
// (docs/learning.md), carried from call to call. Returns each sample's potentials (samples x units)
// before its update. Throws Error(LearningState) for a label >= num_classes, before learning anything.
std::vector<int32_t> fit_last_layer(LayerSpec& l, const LearningParams& p, const uint8_t* inputs, int64_t samples,
                                    const std::vector<int32_t>& labels, int64_t& counter);

}  // namespace akq
