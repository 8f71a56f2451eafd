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

// Structural limits of the layer's NP type (InputConvolutional on the HRC, Convolutional and
// SeparableConvolutional on CNPs, FullyConnected on an FNP), including the CNP capacity.
std::vector<Problem> structural_problems(const LayerSpec& l);

// Thresholds and act_step outside the ranges of fire_ranges() (ranges.hpp). An out-of-range HRC step is a
// Mapping problem, as the reference reports it.
std::vector<Problem> programming_problems(const LayerSpec& l);

// Limits that depend on the neighbour in the same hardware sequence (`next` is null at the end).
std::vector<Problem> sequence_problems(const LayerSpec& l, const LayerSpec* next);

}  // namespace akq::device
