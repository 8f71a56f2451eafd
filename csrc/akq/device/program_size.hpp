// Size in bytes of the program that configures a hardware sequence (weights, thresholds, NP setup).
#pragma once
#include <cstdint>
#include <vector>

#include "akq/device/mapper.hpp"
#include "akq/model.hpp"

namespace akq::device {

int64_t program_bytes(const std::vector<const LayerSpec*>& layers, const std::vector<LayerMapping>& mapped);

// Weight storage of one layer in bits (k*k*C*F*wb; separable adds the depthwise kernels).
int64_t weight_bits(const LayerSpec& l);

}  // namespace akq::device
