// Potentials: patches of the (padded) input gathered as int16 rows, multiplied by the packed
// weights on the dispatched kernels (SPEC C.2, C.3).
#include <algorithm>

#include "akq/engine/kernels.hpp"
#include "akq/engine/layer_ops.hpp"

namespace akq {

namespace {

// Row `r` of the patch matrix: the k0 x k1 x C window of output position `pos`, padding included.
void gather_patch(const CompiledLayer& L, const uint8_t* input, int64_t pos, int16_t* row) {
    const int32_t o0 = static_cast<int32_t>(pos / L.out1), o1 = static_cast<int32_t>(pos % L.out1);
    const int32_t C = L.channels;
    for (int32_t a = 0; a < L.k0; ++a) {
        const int32_t i = o0 * L.s0 + a - L.pad0;
        for (int32_t b = 0; b < L.k1; ++b, row += C) {
            const int32_t j = o1 * L.s1 + b - L.pad1;
            if (i < 0 || i >= L.in0 || j < 0 || j >= L.in1) {
                std::fill(row, row + C, static_cast<int16_t>(L.pad_value));
                continue;
            }
            const uint8_t* cell = input + (int64_t{i} * L.in1 + j) * C;
            for (int32_t ch = 0; ch < C; ++ch) row[ch] = cell[ch];
        }
    }
    if (L.depth % 2) *row = 0;
}

// The input cells under each tap of the depthwise kernel at `pos` (nullptr where padding).
void gather_taps(const CompiledLayer& L, const uint8_t* input, int64_t pos, Scratch& s) {
    const int32_t o0 = static_cast<int32_t>(pos / L.out1), o1 = static_cast<int32_t>(pos % L.out1);
    int32_t t = 0;
    for (int32_t a = 0; a < L.k0; ++a) {
        const int32_t i = o0 * L.s0 + a - L.pad0;
        for (int32_t b = 0; b < L.k1; ++b, ++t) {
            const int32_t j = o1 * L.s1 + b - L.pad1;
            const bool inside = i >= 0 && i < L.in0 && j >= 0 && j < L.in1;
            s.tap_input[t] = inside ? input + (int64_t{i} * L.in1 + j) * L.channels : nullptr;
        }
    }
}

int64_t separable(const CompiledLayer& L, const uint8_t* input, int32_t* potentials, Scratch& s) {
    const Kernels& k = kernels();
    const int32_t C = L.channels, F = L.filters, taps = L.k0 * L.k1;
    const int64_t width = 2 * L.depth_pairs;
    int64_t nonzero = 0;
    for (int32_t t = 0; t < taps; ++t) s.tap_weights[t] = L.depthwise.data() + int64_t{t} * C;
    for (int64_t first = 0; first < L.positions(); first += kTile) {
        const int64_t rows = std::min(kTile, L.positions() - first);
        for (int64_t r = 0; r < rows; ++r) {
            gather_taps(L, input, first + r, s);
            int32_t* d = s.depthwise.data() + r * C;
            k.depthwise(s.tap_input.data(), s.tap_weights.data(), taps, C, d);
            for (int32_t ch = 0; ch < C; ++ch) nonzero += d[ch] != 0;
        }
        int32_t* out = potentials + first * L.filters_padded;
        if (L.depthwise_fits_int16) {
            for (int64_t r = 0; r < rows; ++r) {
                int16_t* row = s.patch.data() + r * width;
                const int32_t* d = s.depthwise.data() + r * C;
                for (int32_t ch = 0; ch < C; ++ch) row[ch] = static_cast<int16_t>(d[ch]);
                if (C % 2) row[C] = 0;
            }
            k.gemm_s16(s.patch.data(), width, rows, L.depth_pairs, L.packed.data(), L.filters_padded, out,
                       L.filters_padded);
            continue;
        }
        // Exact int32 pointwise for depthwise sums beyond int16 (large kernels of 8-bit weights).
        for (int64_t r = 0; r < rows; ++r) {
            const int32_t* d = s.depthwise.data() + r * C;
            for (int32_t f = 0; f < F; ++f) {
                int64_t acc = 0;
                for (int32_t ch = 0; ch < C; ++ch) acc += int64_t{d[ch]} * L.pointwise[int64_t{ch} * F + f];
                out[r * L.filters_padded + f] = static_cast<int32_t>(static_cast<uint32_t>(acc));
            }
        }
    }
    return nonzero * F;
}

}  // namespace

void Scratch::reserve_for(const CompiledLayer& L) {
    const size_t width = static_cast<size_t>(2 * L.depth_pairs);
    patch.resize(std::max(patch.size(), static_cast<size_t>(kTile) * width));
    depthwise.resize(std::max(depthwise.size(), static_cast<size_t>(kTile) * L.channels));
    const size_t taps = static_cast<size_t>(L.k0) * L.k1;
    tap_input.resize(std::max(tap_input.size(), taps));
    tap_weights.resize(std::max(tap_weights.size(), taps));
}

int64_t compute_potentials(const CompiledLayer& L, const uint8_t* input, int32_t* potentials, Scratch& s) {
    const Kernels& k = kernels();
    const int64_t width = 2 * L.depth_pairs;
    switch (L.type) {
        case LayerType::SeparableConvolutional: return separable(L, input, potentials, s);
        case LayerType::FullyConnected: {
            int16_t* row = s.patch.data();
            for (int64_t i = 0; i < L.depth; ++i) row[i] = input[i];
            if (L.depth % 2) row[L.depth] = 0;
            k.gemm_s16(row, width, 1, L.depth_pairs, L.packed.data(), L.filters_padded, potentials, L.filters_padded);
            return 0;
        }
        default:
            for (int64_t first = 0; first < L.positions(); first += kTile) {
                const int64_t rows = std::min(kTile, L.positions() - first);
                for (int64_t r = 0; r < rows; ++r) gather_patch(L, input, first + r, s.patch.data() + r * width);
                k.gemm_s16(s.patch.data(), width, rows, L.depth_pairs, L.packed.data(), L.filters_padded,
                           potentials + first * L.filters_padded, L.filters_padded);
            }
            return 0;
    }
}

}  // namespace akq
