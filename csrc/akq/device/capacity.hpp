// How many neural processors a layer needs, and how its filters are spread over them (docs/spec D.5).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "akq/model.hpp"

namespace akq::device {

// The split of a Convolutional / SeparableConvolutional layer over CNPs: `strips` strips of the input
// along axis 0, each served by one NP per filter group. `filters` lists the filters of every NP
// (strip-major). `problem` is non-empty when no split fits a CNP (`strips` is 0 when no strip width fits
// the row buffer; the filter memory is checked first).
struct CnpSplit {
    int32_t strips = 0;
    int32_t strip_width = 0;
    int32_t max_filters_per_np = 0;
    std::vector<int32_t> filters;
    std::string problem;
};

// `filter_groups` asks for at least that many NPs per strip (the all-NPs mapping spreads filters for
// speed); the split never gives an NP fewer than one filter. `input_bits`: the bits of the layer's input
// activations (the previous layer's act_bits, or InputData's input_bits), which the row buffer holds.
CnpSplit split_cnp_layer(const LayerSpec& l, int32_t filter_groups = 1, int32_t input_bits = 4);

// Whether a CNP stores weights of l.weights_bits bits: 1, 2 or 4, a separable layer 2 or 4 [docs/spec D.3].
bool cnp_takes_weights_bits(const LayerSpec& l);

// The bits of the activations entering the layer after `previous` (8 for the first layer's pixels).
int32_t input_bits_after(const LayerSpec* previous);

// Filters of `groups` NPs sharing `filters` evenly: ceil(F/n) each, the rest on the last NP
// (1024 over 3 NPs -> 342, 342, 340 as the reference reports [docs/spec D.5]).
std::vector<int32_t> balance_filters(int32_t filters, int32_t groups);

}  // namespace akq::device
