// The engine's fixed-point constants (docs/spec C.4-C.6), in one place for the engine, its SIMD
// kernels and the tools that must agree with it (threshold.cpp, model.cpp).
#pragma once
#include <cstdint>

namespace akq::arithmetic {

// Potentials saturate to 20 bits after pooling: [-2^19, 2^19).
constexpr int32_t kPotentialMin = -(1 << 19);
constexpr int32_t kPotentialMax = (1 << 19) - 1;

// The activation divides a 28-bit numerator: (2^b z - 1) mod 2^28.
constexpr int kNumeratorBits = 28;
constexpr uint32_t kNumeratorMask = (uint32_t{1} << kNumeratorBits) - 1;

// Steps are truncated to 1/16: step16 = floor(16 act_step) mod 2^28, so act_step >= 1/16.
constexpr int32_t kStepScale = 16;

// saturate20(v): v clamped to [kPotentialMin, kPotentialMax].
constexpr int32_t saturate20(int64_t v) {
    return static_cast<int32_t>(v < kPotentialMin ? kPotentialMin : (v > kPotentialMax ? kPotentialMax : v));
}

}  // namespace akq::arithmetic
