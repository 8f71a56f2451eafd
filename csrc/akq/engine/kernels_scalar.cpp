// Portable kernels: the definition of the arithmetic the SIMD kernels must reproduce bit for bit.
#include <algorithm>
#include <climits>

#include "akq/engine/depthwise_scalar.hpp"
#include "akq/engine/kernels.hpp"
#include "akq/engine/layer_ops.hpp"
#include "akq/engine/plan.hpp"

namespace akq {

namespace {

template <class A, class W, int Unit>
void gemm(const A* a, int64_t lda, int64_t rows, int32_t segments, int64_t stride, int64_t units, const W* packed,
          int32_t filters_padded, int32_t* c, int64_t ldc) {
    const int64_t panel_size = int64_t{kPanel} * segments * units * Unit;
    for (int64_t m = 0; m < rows; ++m) {
        for (int32_t f0 = 0; f0 < filters_padded; f0 += kPanel) {
            const int width = std::min(kPanel, filters_padded - f0);
            int64_t acc[kPanel] = {};
            const W* w = packed + f0 / kPanel * panel_size;
            for (int32_t seg = 0; seg < segments; ++seg) {
                const A* x = a + m * lda + seg * stride;
                for (int64_t u = 0; u < units; ++u, x += Unit, w += width * Unit) {
                    bool event = false;
                    for (int i = 0; i < Unit; ++i) event |= x[i] != 0;
                    if (!event) continue;  // no event, no work
                    for (int lane = 0; lane < width; ++lane)
                        for (int i = 0; i < Unit; ++i) acc[lane] += int32_t{x[i]} * w[lane * Unit + i];
                }
            }
            // int32 wrap-around, as the SIMD accumulators do.
            for (int lane = 0; lane < width; ++lane)
                c[m * ldc + f0 + lane] = static_cast<int32_t>(static_cast<uint32_t>(acc[lane]));
        }
    }
}

void gemm_s16(const int16_t* a, int64_t lda, int64_t rows, int32_t segments, int64_t stride, int64_t units,
              const int16_t* packed, int32_t filters_padded, int32_t* c, int64_t ldc) {
    gemm<int16_t, int16_t, 2>(a, lda, rows, segments, stride, units, packed, filters_padded, c, ldc);
}

void gemm_u8(const uint8_t* a, int64_t lda, int64_t rows, int32_t segments, int64_t stride, int64_t units,
             const int8_t* packed, int32_t filters_padded, int32_t /*group*/, int32_t* c, int64_t ldc) {
    gemm<uint8_t, int8_t, 4>(a, lda, rows, segments, stride, units, packed, filters_padded, c, ldc);
}

int64_t activate_rows(const int32_t* p, int64_t rows, int64_t ld, int64_t filters, const int32_t* threshold,
                      const uint32_t* step16, const uint32_t*, const uint32_t*, int32_t bits, uint8_t* out,
                      int32_t* row_events) {
    int64_t events = 0;
    for (int64_t r = 0; r < rows; ++r) {
        int32_t row = 0;
        for (int64_t f = 0; f < filters; ++f) {
            const uint8_t v = activate(p[r * ld + f], threshold[f], step16[f], bits);
            out[r * filters + f] = v;
            row += v != 0;
        }
        if (row_events) row_events[r] = row;
        events += row;
    }
    return events;
}

int64_t depthwise16(const uint8_t* origin, int64_t row_stride, int64_t step, int64_t positions, int32_t k0,
                    int32_t k1, int32_t channels, const int16_t* w, const int8_t* /*pairs*/, int16_t* out, int64_t ld) {
    int64_t nonzero = 0;
    for (int64_t p = 0; p < positions; ++p)
        nonzero += depthwise16_channels(origin + p * step, row_stride, k0, k1, 0, channels, w, out + p * ld);
    return nonzero;
}

int64_t count_nonzero(const uint8_t* x, int64_t n) {
    int64_t count = 0;
    for (int64_t i = 0; i < n; ++i) count += x[i] != 0;
    return count;
}

int64_t count_events(const uint8_t* x, int64_t cells, int64_t channels, const int64_t* fanout, int64_t* ops) {
    int64_t events = 0, total = 0;
    for (int64_t cell = 0; cell < cells; ++cell) {
        int64_t n = 0;
        for (int64_t c = 0; c < channels; ++c) n += x[cell * channels + c] != 0;
        events += n;
        total += n * fanout[cell];
    }
    *ops += total;
    return events;
}

void global_sum(const int32_t* potentials, int64_t positions, int64_t ld, int64_t filters, int32_t* pooled) {
    std::fill(pooled, pooled + filters, 0);
    for (int64_t pos = 0; pos < positions; ++pos)
        for (int64_t f = 0; f < filters; ++f) pooled[f] = global_sum_step(pooled[f], potentials[pos * ld + f]);
}

void max_pool(const int32_t* potentials, const PoolGeometry& g, int32_t* pooled) {
    for (int32_t u = 0; u < g.pool0; ++u) {
        const int32_t i0 = std::max(u * g.r0 - g.pad0, 0), i1 = std::min(u * g.r0 - g.pad0 + g.q0, g.out0);
        for (int32_t v = 0; v < g.pool1; ++v) {
            const int32_t j0 = std::max(v * g.r1 - g.pad1, 0), j1 = std::min(v * g.r1 - g.pad1 + g.q1, g.out1);
            int32_t* out = pooled + (int64_t{u} * g.pool1 + v) * g.filters;
            for (int64_t f = 0; f < g.filters; ++f) {
                int32_t m = INT32_MIN;
                for (int32_t i = i0; i < i1; ++i)
                    for (int32_t j = j0; j < j1; ++j) m = std::max(m, potentials[(int64_t{i} * g.out1 + j) * g.ld + f]);
                out[f] = clamp20(m);
            }
        }
    }
}

}  // namespace

const Kernels& scalar_kernels() {
    static const Kernels k{gemm_s16,      gemm_u8,      activate_rows, depthwise16,
                           count_nonzero, count_events, max_pool,      global_sum};
    return k;
}

}  // namespace akq
