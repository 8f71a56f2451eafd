// Potentials (SPEC C.2, C.3): the input is copied once into a padded buffer (TF 'same' cells filled
// with the padding value), then each output row is one implicit matrix product on the dispatched
// kernels: the k0 kernel rows are k0 runs of k1*C contiguous values of the padded input.
#include <algorithm>

#include "akq/engine/kernels.hpp"
#include "akq/engine/layer_ops.hpp"

namespace akq {

namespace {

// input (in0, in1, C) -> padded (padded0, padded1, C) with the input at (pad0, pad1); slack zeroed.
template <class T>
void pad_input(const CompiledLayer& L, const uint8_t* input, T* padded) {
    const int64_t C = L.channels, row = int64_t{L.padded1} * C;
    std::fill_n(padded, L.padded_size(), static_cast<T>(L.pad_value));
    std::fill_n(padded + int64_t{L.padded0} * row, L.padded_size() - L.padded0 * row, T{0});
    for (int32_t i = 0; i < L.in0; ++i)
        std::copy_n(input + int64_t{i} * L.in1 * C, int64_t{L.in1} * C, padded + (i + L.pad0) * row + L.pad1 * C);
}

void convolve(const CompiledLayer& L, const uint8_t* input, int32_t* potentials, Scratch& s) {
    const Kernels& k = kernels();
    const int64_t C = L.channels, row = int64_t{L.padded1} * C, Fp = L.filters_padded;
    if (L.small_inputs) {
        pad_input(L, input, s.padded8.data());
        for (int32_t o0 = 0; o0 < L.out0; ++o0)
            k.gemm_u8(s.padded8.data() + o0 * L.s0 * row, L.s1 * C, L.out1, L.segments, row, L.run_units,
                      L.packed8.data(), L.filters_padded, L.int16_group, potentials + o0 * L.out1 * Fp, Fp);
    } else {
        pad_input(L, input, s.padded16.data());
        for (int32_t o0 = 0; o0 < L.out0; ++o0)
            k.gemm_s16(s.padded16.data() + o0 * L.s0 * row, L.s1 * C, L.out1, L.segments, row, L.run_units,
                       L.packed.data(), L.filters_padded, potentials + o0 * L.out1 * Fp, Fp);
    }
}

int64_t separable(const CompiledLayer& L, const uint8_t* input, int32_t* potentials, Scratch& s) {
    const Kernels& k = kernels();
    const int32_t C = L.channels, F = L.filters, taps = L.k0 * L.k1;
    const int64_t row = int64_t{L.padded1} * C, width = 2 * L.run_units;
    pad_input(L, input, s.padded8.data());
    int64_t nonzero = 0;
    for (int32_t t = 0; t < taps; ++t) s.tap_weights[t] = L.depthwise.data() + int64_t{t} * C;
    for (int64_t first = 0; first < L.positions(); first += kTile) {
        const int64_t rows = std::min(kTile, L.positions() - first);
        for (int64_t r = 0; r < rows; ++r) {
            const int64_t pos = first + r, o0 = pos / L.out1, o1 = pos % L.out1;
            const uint8_t* origin = s.padded8.data() + o0 * L.s0 * row + o1 * L.s1 * C;
            for (int32_t a = 0, t = 0; a < L.k0; ++a)
                for (int32_t b = 0; b < L.k1; ++b, ++t) s.tap_input[t] = origin + a * row + b * C;
            int32_t* d = s.depthwise.data() + r * C;
            k.depthwise(s.tap_input.data(), s.tap_weights.data(), taps, C, d);
            for (int32_t ch = 0; ch < C; ++ch) nonzero += d[ch] != 0;
        }
        int32_t* out = potentials + first * L.filters_padded;
        if (L.depthwise_fits_int16) {
            for (int64_t r = 0; r < rows; ++r) {
                int16_t* a = s.patch.data() + r * width;
                const int32_t* d = s.depthwise.data() + r * C;
                for (int32_t ch = 0; ch < C; ++ch) a[ch] = static_cast<int16_t>(d[ch]);
                std::fill(a + C, a + width, int16_t{0});
            }
            k.gemm_s16(s.patch.data(), width, rows, 1, 0, L.run_units, L.packed.data(), L.filters_padded, out,
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
    auto grow = [](auto& v, int64_t n) { v.resize(std::max(v.size(), static_cast<size_t>(n))); };
    if (L.type == LayerType::InputData) return;
    if (L.type == LayerType::FullyConnected) {
        grow(patch8, 4 * L.run_units);
        return;
    }
    if (L.small_inputs || L.type == LayerType::SeparableConvolutional) grow(padded8, L.padded_size());
    if (!L.small_inputs && L.type != LayerType::SeparableConvolutional) grow(padded16, L.padded_size());
    if (L.type == LayerType::SeparableConvolutional) {
        grow(patch, kTile * 2 * L.run_units);
        grow(depthwise, kTile * L.channels);
        grow(tap_input, int64_t{L.k0} * L.k1);
        grow(tap_weights, int64_t{L.k0} * L.k1);
    }
}

int64_t compute_potentials(const CompiledLayer& L, const uint8_t* input, int32_t* potentials, Scratch& s) {
    switch (L.type) {
        case LayerType::SeparableConvolutional: return separable(L, input, potentials, s);
        case LayerType::FullyConnected: {
            uint8_t* a = s.patch8.data();
            std::copy_n(input, L.depth, a);
            std::fill(a + L.depth, a + 4 * L.run_units, uint8_t{0});
            kernels().gemm_u8(a, 0, 1, 1, 0, L.run_units, L.packed8.data(), L.filters_padded, L.int16_group,
                              potentials, L.filters_padded);
            return 0;
        }
        default: convolve(L, input, potentials, s); return 0;
    }
}

}  // namespace akq
