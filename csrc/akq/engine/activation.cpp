// After the potentials: 20-bit saturation, max or global-average pooling (SPEC C.4, C.5), then the
// activation (SPEC C.6) or the raw pooled potentials of a last layer without activation.
#include <algorithm>

#include "akq/engine/layer_ops.hpp"

namespace akq {

namespace {

// TF max pooling of clamp20(p) with the layer's padding; padded cells never win.
void max_pool(const CompiledLayer& L, int32_t* potentials, int32_t* pooled) {
    const int64_t ld = L.filters_padded, F = L.filters;
    for (int64_t pos = 0; pos < L.positions(); ++pos)
        for (int64_t f = 0; f < F; ++f) potentials[pos * ld + f] = clamp20(potentials[pos * ld + f]);
    for (int32_t u = 0; u < L.pool0; ++u) {
        const int32_t i0 = std::max(u * L.r0 - L.pool_pad0, 0), i1 = std::min(u * L.r0 - L.pool_pad0 + L.q0, L.out0);
        for (int32_t v = 0; v < L.pool1; ++v) {
            const int32_t j0 = std::max(v * L.r1 - L.pool_pad1, 0);
            const int32_t j1 = std::min(v * L.r1 - L.pool_pad1 + L.q1, L.out1);
            int32_t* out = pooled + (int64_t{u} * L.pool1 + v) * F;
            std::fill(out, out + F, INT32_MIN);
            for (int32_t i = i0; i < i1; ++i)
                for (int32_t j = j0; j < j1; ++j) {
                    const int32_t* p = potentials + (int64_t{i} * L.out1 + j) * ld;
                    for (int64_t f = 0; f < F; ++f) out[f] = std::max(out[f], p[f]);
                }
        }
    }
}

// Global "average": the sum over positions in row-major order with a saturating 20-bit accumulator.
void global_sum(const CompiledLayer& L, const int32_t* potentials, int32_t* pooled) {
    const int64_t ld = L.filters_padded, F = L.filters;
    std::fill(pooled, pooled + F, 0);
    for (int64_t pos = 0; pos < L.positions(); ++pos)
        for (int64_t f = 0; f < F; ++f) pooled[f] = clamp20(int64_t{pooled[f]} + potentials[pos * ld + f]);
}

}  // namespace

int64_t finish_layer(const CompiledLayer& L, int32_t* potentials, int32_t* pooled, uint8_t* activations,
                     int32_t* out_potentials) {
    const int64_t F = L.filters;
    const int32_t* source = potentials;
    int64_t ld = L.filters_padded, rows = L.positions();
    if (L.type == LayerType::FullyConnected) {
        for (int64_t f = 0; f < F; ++f) potentials[f] = clamp20(potentials[f]);
    } else if (L.pool == PoolType::Max) {
        max_pool(L, potentials, pooled);
        source = pooled, ld = F, rows = int64_t{L.pool0} * L.pool1;
    } else if (L.pool == PoolType::Average) {
        global_sum(L, potentials, pooled);
        source = pooled, ld = F, rows = 1;
    }
    int64_t events = 0;
    for (int64_t r = 0; r < rows; ++r) {
        const int32_t* p = source + r * ld;
        if (L.activation) {
            uint8_t* out = activations + r * F;
            for (int64_t f = 0; f < F; ++f) {
                out[f] = activate(p[f], L.threshold[f], L.step16[f], L.act_bits);
                events += out[f] != 0;
            }
        } else {
            int32_t* out = out_potentials + r * F;
            for (int64_t f = 0; f < F; ++f) {
                out[f] = p[f];
                events += p[f] != 0;
            }
        }
    }
    return events;
}

}  // namespace akq
