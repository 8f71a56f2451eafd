// Potentials (docs/spec C.2, C.3): the input is copied once into a padded buffer (TF 'same' cells filled
// with the padding value), then each output row is one implicit matrix product on the dispatched
// kernels: the k0 kernel rows are k0 runs of k1*C contiguous values of the padded input.
#include <algorithm>

#include "akq/engine/kernels.hpp"
#include "akq/engine/layer_ops.hpp"

namespace akq {

namespace {

// input (in0, in1, C) -> padded (padded0, padded1, C) with the input at (pad0, pad1): only the
// border cells take the padding value; the slack after the data is zeroed.
template <class T>
void pad_input(const CompiledLayer& L, const uint8_t* input, T* padded) {
    const int64_t C = L.channels, row = int64_t{L.padded1} * C, data_rows_end = int64_t{L.pad0} + L.in0;
    const T pad = static_cast<T>(L.pad_value);
    std::fill_n(padded, L.pad0 * row, pad);
    for (int64_t i = 0; i < L.in0; ++i) {
        T* dst = padded + (i + L.pad0) * row;
        std::fill_n(dst, L.pad1 * C, pad);
        std::copy_n(input + i * L.in1 * C, int64_t{L.in1} * C, dst + L.pad1 * C);
        std::fill_n(dst + (L.pad1 + L.in1) * C, (L.padded1 - L.pad1 - L.in1) * C, pad);
    }
    std::fill_n(padded + data_rows_end * row, (L.padded0 - data_rows_end) * row, pad);
    std::fill_n(padded + int64_t{L.padded0} * row, L.padded_size() - L.padded0 * row, T{0});
}

// The packed weights of a share's first filter panel, for a kernel reading `unit` values at a time.
template <class T>
const T* share_weights(const CompiledLayer& L, const AlignedVector<T>& packed, int unit, const Share& share) {
    return packed.data() + share.first_filter / kPanel * (int64_t{kPanel} * L.segments * L.run_units * unit);
}

// The share's output rows and filters of one sample.
void convolve(const CompiledLayer& L, const uint8_t* input, int32_t* potentials, Scratch& s, const Share& share) {
    const Kernels& k = kernels();
    const int64_t C = L.channels, row = int64_t{L.padded1} * C, Fp = L.filters_padded;
    const int32_t filters = share.end_filter - share.first_filter;
    int32_t* out = potentials + share.first_filter;
    if (L.small_inputs) {
        pad_input(L, input, s.padded8.data());
        const int8_t* w = share_weights(L, L.packed8, 4, share);
        for (int64_t o0 = share.first_row; o0 < share.end_row; ++o0)
            k.gemm_u8(s.padded8.data() + o0 * L.s0 * row, L.s1 * C, L.out1, L.segments, row, L.run_units, w, filters,
                      L.int16_group, out + o0 * L.out1 * Fp, Fp);
    } else {
        pad_input(L, input, s.padded16.data());
        const int16_t* w = share_weights(L, L.packed, 2, share);
        for (int64_t o0 = share.first_row; o0 < share.end_row; ++o0)
            k.gemm_s16(s.padded16.data() + o0 * L.s0 * row, L.s1 * C, L.out1, L.segments, row, L.run_units, w,
                       filters, out + o0 * L.out1 * Fp, Fp);
    }
}

// Depthwise sums of kTile (sample, position) rows at a time, then one pointwise product per tile:
// small layers of several samples share the pointwise weights while they are in registers/L1.
int64_t separable(const CompiledLayer& L, const uint8_t* input, int64_t stride, int64_t samples,
                  int32_t* potentials, Scratch& s, const Share& share) {
    const Kernels& k = kernels();
    const int32_t C = L.channels, first_filter = share.first_filter, end_filter = std::min(share.end_filter, L.filters);
    const int64_t row = int64_t{L.padded1} * C, width = 2 * L.run_units, positions = L.positions();
    const int64_t padded_size = L.padded_size();
    for (int64_t n = 0; n < samples; ++n) pad_input(L, input + n * stride, s.padded8.data() + n * padded_size);
    int64_t nonzero = 0;
    for (int64_t first = share.first_row; first < share.end_row; first += kTile) {
        const int64_t rows = std::min(kTile, share.end_row - first);
        int32_t* out = potentials + first * L.filters_padded;
        auto origin = [&](int64_t r) {
            const int64_t n = (first + r) / positions, pos = (first + r) % positions;
            return s.padded8.data() + n * padded_size + (pos / L.out1) * L.s0 * row + (pos % L.out1) * L.s1 * C;
        };
        if (L.depthwise_fits_int16) {
            // Runs of positions along one output row: one call each.
            for (int64_t r = 0, run; r < rows; r += run) {
                run = std::min<int64_t>(L.out1 - (first + r) % L.out1, rows - r);
                int16_t* d = s.patch.data() + r * width;
                nonzero += k.depthwise16(origin(r), row, L.s1 * C, run, L.k0, L.k1, C, L.depthwise.data(),
                                         L.depthwise_pairs.data(), d, width);
                if (width > C)
                    for (int64_t i = 0; i < run; ++i) d[i * width + C] = 0;  // the unit's padding (odd C)
            }
            k.gemm_s16(s.patch.data(), width, rows, 1, 0, L.run_units, share_weights(L, L.packed, 2, share),
                       share.end_filter - first_filter, out + first_filter, L.filters_padded);
            continue;
        }
        // Exact int32 sums for depthwise results beyond int16 (large kernels of 8-bit weights), wrapping
        // in two's complement beyond int32 like the SIMD accumulators (signed overflow is undefined).
        std::vector<int32_t>& d = s.depthwise;
        for (int64_t r = 0; r < rows; ++r) {
            const uint8_t* x = origin(r);
            std::fill_n(d.data(), C, 0);
            for (int32_t a = 0; a < L.k0; ++a)
                for (int32_t b = 0; b < L.k1; ++b)
                    for (int32_t ch = 0; ch < C; ++ch)
                        d[ch] = static_cast<int32_t>(
                            static_cast<uint32_t>(d[ch]) +
                            static_cast<uint32_t>(x[a * row + int64_t{b} * C + ch] *
                                                  L.depthwise[(int64_t{a} * L.k1 + b) * C + ch]));
            for (int32_t ch = 0; ch < C; ++ch) nonzero += d[ch] != 0;
            for (int32_t f = first_filter; f < end_filter; ++f) {
                int64_t acc = 0;
                for (int32_t ch = 0; ch < C; ++ch) acc += int64_t{d[ch]} * L.pointwise[int64_t{ch} * L.filters + f];
                out[r * L.filters_padded + f] = static_cast<int32_t>(static_cast<uint32_t>(acc));
            }
        }
    }
    return nonzero * (end_filter - first_filter);
}

}  // namespace

int64_t samples_per_call(const CompiledLayer& L, int64_t chunk) {
    const int64_t bytes = L.positions() * L.filters_padded * int64_t{sizeof(int32_t)};
    return L.type == LayerType::FullyConnected || bytes * kChunk <= 64 * 1024 ? chunk : 1;
}

void Scratch::reserve_for(const CompiledLayer& L, int64_t chunk) {
    auto grow = [](auto& v, int64_t n) { v.resize(std::max(v.size(), static_cast<size_t>(n))); };
    if (L.type == LayerType::InputData) return;
    if (L.type == LayerType::FullyConnected) {
        grow(patch8, chunk * 4 * L.run_units);
        return;
    }
    if (L.small_inputs && L.type != LayerType::SeparableConvolutional) grow(padded8, L.padded_size());
    if (L.type == LayerType::SeparableConvolutional) grow(padded8, samples_per_call(L, chunk) * L.padded_size());
    if (!L.small_inputs && L.type != LayerType::SeparableConvolutional) grow(padded16, L.padded_size());
    if (L.type == LayerType::SeparableConvolutional) {
        grow(patch, kTile * 2 * L.run_units);
        grow(depthwise, L.channels);
    }
}

Sharing share_layer(const CompiledLayer& L, int64_t threads) {
    Sharing s;
    s.filters_padded = L.filters_padded;
    if (L.macs < kSharedMacs || threads < 2) return s;
    const int64_t rows = L.type == LayerType::SeparableConvolutional ? L.positions()
                         : L.type == LayerType::FullyConnected       ? 1
                                                                     : L.out0;
    const int64_t panels = (L.filters_padded + kPanel - 1) / kPanel;
    s.by_rows = rows * share_row_positions(L) >= kSharedPositions * threads || panels < 2;
    s.count = s.by_rows ? rows : panels;
    s.parts = std::min(threads, s.count);
    return s;
}

Share Sharing::share(int64_t part) const {
    const int64_t first = count * part / parts, end = count * (part + 1) / parts;
    Share s;
    if (by_rows) {
        s.first_row = first, s.end_row = end;
    } else {
        s.first_filter = static_cast<int32_t>(first * kPanel);
        s.end_filter = end == count ? filters_padded : static_cast<int32_t>(end * kPanel);
    }
    return s;
}

int64_t compute_potentials(const CompiledLayer& L, const uint8_t* input, int64_t stride, int64_t samples,
                           int32_t* potentials, Scratch& s, Share share) {
    const int64_t per_sample = L.positions() * L.filters_padded;
    if (share.end_filter < 0) share.end_filter = L.filters_padded;
    switch (L.type) {
        case LayerType::SeparableConvolutional:
            if (share.end_row < 0) share.end_row = samples * L.positions();
            return separable(L, input, stride, samples, potentials, s, share);
        case LayerType::FullyConnected: {
            const int64_t width = 4 * L.run_units;
            for (int64_t n = 0; n < samples; ++n) {
                uint8_t* a = s.patch8.data() + n * width;
                std::copy_n(input + n * stride, L.depth, a);
                std::fill(a + L.depth, a + width, uint8_t{0});
            }
            kernels().gemm_u8(s.patch8.data(), width, samples, 1, 0, L.run_units,
                              share_weights(L, L.packed8, 4, share), share.end_filter - share.first_filter,
                              L.int16_group, potentials + share.first_filter, L.filters_padded);
            return 0;
        }
        default:
            if (share.end_row < 0) share.end_row = L.out0;
            for (int64_t n = 0; n < samples; ++n)
                convolve(L, input + n * stride, potentials + n * per_sample, s, share);
            return 0;
    }
}

}  // namespace akq
