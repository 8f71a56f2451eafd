// The scalar depthwise sum, shared by kernels_scalar.cpp (all channels) and kernels_avx2.cpp (the
// channels after the last whole 16-channel block). Internal to the engine.
#pragma once
#include <cstdint>

namespace akq {

// Internal linkage on purpose: kernels_avx2.cpp is compiled with -mavx2, and one shared (external)
// copy of an inline function could be the AVX2 build that the scalar kernels then call.
namespace {

// Channels [begin, channels): the int32 sum over the k0 x k1 taps, stored as int16; returns how many
// of those sums are non-zero.
inline int64_t depthwise16_channels(const uint8_t* origin, int64_t row_stride, int32_t k0, int32_t k1,
                                    int32_t begin, int32_t channels, const int16_t* w, int16_t* out) {
    int64_t nonzero = 0;
    for (int32_t c = begin; c < channels; ++c) {
        int32_t acc = 0;
        for (int32_t a = 0; a < k0; ++a)
            for (int32_t b = 0; b < k1; ++b)
                acc += origin[a * row_stride + int64_t{b} * channels + c] * w[(int64_t{a} * k1 + b) * channels + c];
        out[c] = static_cast<int16_t>(acc);
        nonzero += acc != 0;
    }
    return nonzero;
}

}  // namespace

}  // namespace akq
