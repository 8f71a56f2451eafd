// What keeps a layer off the AKD1000: structural limits (docs/spec D.3) and programming ranges (docs/spec D.4).
// Each problem says what the reference would say, the value, the limit, and the likely cause and fix.
#pragma once
#include <string>
#include <vector>

#include "akq/model.hpp"

namespace akq::device {

enum class ProblemKind : uint8_t {
    Mapping,      // the layer's shape or parameters do not fit an NP ("Error when mapping layer ...")
    Programming,  // a variable does not fit its hardware register ("Error when programming layer ...")
};

struct Problem {
    std::string layer;
    ProblemKind kind = ProblemKind::Mapping;
    std::string reason;  // the rule broken, with value and limit
    std::string hint;    // likely cause and fix
    std::string message() const;
};

// Limits of the layer's NP type on its own parameters (InputConvolutional on the HRC, Convolutional and
// SeparableConvolutional on CNPs, FullyConnected on an FNP), in the order the reference checks them.
std::vector<Problem> parameter_problems(const LayerSpec& l);

// The CNP capacity (filter memory, row buffer, NP count, spatial-split rules) of a layer whose parameters
// pass, as the reference checks them while it allocates the layer's NPs; `input_bits` as for
// split_cnp_layer.
std::vector<Problem> capacity_problems(const LayerSpec& l, int32_t input_bits = 4);

// How the filters are spread over the NPs (with one input channel, ceil(filters per NP / 8) must be even):
// the reference checks this once the whole model is allocated.
std::vector<Problem> split_problems(const LayerSpec& l, int32_t input_bits = 4);

// Thresholds and act_step outside the ranges of fire_ranges() (ranges.hpp). An out-of-range HRC step is a
// Mapping problem, as the reference reports it.
std::vector<Problem> programming_problems(const LayerSpec& l);

// Limits that depend on the neighbour in the same hardware sequence (`next` is null at the end).
std::vector<Problem> sequence_problems(const LayerSpec& l, const LayerSpec* next);

}  // namespace akq::device
