// After the potentials: 20-bit saturation, max or global-average pooling (docs/spec C.4, C.5), then the
// activation (docs/spec C.6) or the raw pooled potentials of a last layer without activation.
#include "akq/engine/kernels.hpp"
#include "akq/engine/layer_ops.hpp"

namespace akq {

int64_t activate_share(const CompiledLayer& L, const int32_t* potentials, const Share& share, uint8_t* activations,
                       int32_t* cell_events) {
    const int64_t first = share.first_row * share_row_positions(L), end = share.end_row * share_row_positions(L);
    return kernels().activate(potentials + first * L.filters_padded, end - first, L.filters_padded, L.filters,
                              L.threshold.data(), L.step16.data(), L.magic.data(), L.shift.data(), L.act_bits,
                              activations + first * L.filters, cell_events ? cell_events + first : nullptr);
}

int64_t finish_layer(const CompiledLayer& L, int32_t* potentials, int32_t* pooled, uint8_t* activations,
                     int32_t* cell_events, int32_t* out_potentials) {
    const int64_t F = L.filters;
    const int32_t* source = potentials;
    int64_t ld = L.filters_padded, rows = L.positions();
    if (L.type == LayerType::FullyConnected) {
        for (int64_t f = 0; f < F; ++f) potentials[f] = clamp20(potentials[f]);
    } else if (L.pool == PoolType::Max) {
        const PoolGeometry g{L.out0, L.out1, L.q0, L.q1, L.r0, L.r1, L.pool_pad0, L.pool_pad1, L.pool0, L.pool1,
                             L.filters_padded, F};
        kernels().max_pool(potentials, g, pooled);
        source = pooled, ld = F, rows = int64_t{L.pool0} * L.pool1;
    } else if (L.pool == PoolType::Average) {
        kernels().global_sum(potentials, L.positions(), L.filters_padded, F, pooled);
        source = pooled, ld = F, rows = 1;
    }
    if (L.activation)
        return kernels().activate(source, rows, ld, F, L.threshold.data(), L.step16.data(), L.magic.data(),
                                  L.shift.data(), L.act_bits, activations, cell_events);
    int64_t events = 0;
    for (int64_t r = 0; r < rows; ++r) {
        const int32_t* p = source + r * ld;
        int32_t* out = out_potentials + r * F;
        for (int64_t f = 0; f < F; ++f) {
            out[f] = p[f];
            events += p[f] != 0;
        }
    }
    return events;
}

}  // namespace akq
