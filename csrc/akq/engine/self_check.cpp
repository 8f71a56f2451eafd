// The known-answer self-check of a kernel family: every kernel on a fixed pseudo-random set of
// shapes (whole and partial panels, row tails, int16 groups, channel tails) against the scalar
// kernels, which define the arithmetic. Runs once per family, in well under a millisecond.
#include <cstring>
#include <utility>
#include <vector>

#include "akq/engine/kernels.hpp"
#include "akq/engine/plan.hpp"

namespace akq {

namespace {

// A fixed 32-bit LCG: the set is the same on every machine and every run.
struct Lcg {
    uint32_t state = 12345;
    int32_t next(int32_t lo, int32_t hi) {  // in [lo, hi]
        state = state * 1664525u + 1013904223u;
        const auto span = static_cast<uint64_t>(int64_t{hi} - lo + 1);  // up to 2^32: no int32 overflow
        return static_cast<int32_t>(lo + static_cast<int64_t>((state >> 8) % span));
    }
};

template <class T>
std::vector<T> values(Lcg& g, size_t n, int32_t lo, int32_t hi) {
    std::vector<T> v(n);
    for (T& x : v) x = g.next(0, 3) ? static_cast<T>(g.next(lo, hi)) : T{0};  // a quarter zeros at least
    return v;
}

bool products_agree(const Kernels& k, const Kernels& ref, Lcg& g) {
    for (int32_t filters_padded : {8, 16, 24, 40, 64}) {
        for (int64_t rows : {1, 5, 13, 26}) {
            const int32_t segments = 2;
            const int64_t units = 7, lda = 64, stride = 40;
            const int64_t a_size = (rows - 1) * lda + (segments - 1) * stride + units * 4;
            const int64_t w_size = int64_t{filters_padded} * segments * units * 4;
            std::vector<int32_t> c1(rows * filters_padded), c2(c1.size());
            const auto a8 = values<uint8_t>(g, a_size, 0, 15);
            const auto w8 = values<int8_t>(g, w_size, -128, 127);
            for (int32_t group : {1, 4}) {
                ref.gemm_u8(a8.data(), lda, rows, segments, stride, units, w8.data(), filters_padded, group,
                            c1.data(), filters_padded);
                k.gemm_u8(a8.data(), lda, rows, segments, stride, units, w8.data(), filters_padded, group, c2.data(),
                          filters_padded);
                if (c1 != c2) return false;
            }
            const auto a16 = values<int16_t>(g, a_size, -4096, 4095);
            const auto w16 = values<int16_t>(g, w_size / 2, -128, 127);
            ref.gemm_s16(a16.data(), lda, rows, segments, stride, units, w16.data(), filters_padded, c1.data(),
                         filters_padded);
            k.gemm_s16(a16.data(), lda, rows, segments, stride, units, w16.data(), filters_padded, c2.data(),
                       filters_padded);
            if (c1 != c2) return false;
        }
    }
    return true;
}

bool depthwise_agrees(const Kernels& k, const Kernels& ref, Lcg& g) {
    for (int32_t channels : {5, 16, 40, 56, 72})
        for (const auto& [k0, k1] : {std::pair{3, 3}, std::pair{1, 2}, std::pair{3, 5}}) {
            const int64_t row_stride = 8 * channels, step = 2 * channels, positions = 2, ld = channels + 3;
            const auto x = values<uint8_t>(g, k0 * row_stride, 0, 15);
            const auto w = values<int16_t>(g, k0 * k1 * channels, -128, 127);
            const auto pairs = pack_depthwise_pairs(w, k0, k1, channels);
            std::vector<int16_t> o1(positions * ld), o2(o1.size());
            if (ref.depthwise16(x.data(), row_stride, step, positions, k0, k1, channels, w.data(), pairs.data(),
                                o1.data(), ld) != k.depthwise16(x.data(), row_stride, step, positions, k0, k1,
                                                                channels, w.data(), pairs.data(), o2.data(), ld) ||
                o1 != o2)
                return false;
        }
    return true;
}

bool activation_agrees_on(const Kernels& k, const Kernels& ref, const std::vector<int32_t>& p, int64_t rows,
                          int64_t ld, const std::vector<int32_t>& threshold, const std::vector<uint32_t>& step16,
                          int32_t bits) {
    const int64_t filters = static_cast<int64_t>(step16.size());
    std::vector<uint32_t> magic(filters), shift(filters);
    for (int64_t f = 0; f < filters; ++f) reciprocal(step16[f], magic[f], shift[f]);
    std::vector<uint8_t> o1(rows * filters), o2(o1.size());
    std::vector<int32_t> e1(rows), e2(rows);
    return ref.activate(p.data(), rows, ld, filters, threshold.data(), step16.data(), magic.data(), shift.data(),
                        bits, o1.data(), e1.data()) == k.activate(p.data(), rows, ld, filters, threshold.data(),
                                                                  step16.data(), magic.data(), shift.data(), bits,
                                                                  o2.data(), e2.data()) &&
           o1 == o2 && e1 == e2;
}

// Steps of every size on potentials of every size; then potentials one below, at and one above each
// level's boundary, for 48 filters of steps up to 2^17 (the AVX2 kernel's float32 limit), the last 8 of
// them also at the 28-bit wrap.
bool activation_agrees(const Kernels& k, const Kernels& ref, Lcg& g) {
    const int64_t rows = 3, filters = 21, ld = 24;
    std::vector<int32_t> threshold(filters);
    std::vector<uint32_t> step16(filters);
    for (int64_t f = 0; f < filters; ++f) {
        threshold[f] = g.next(-1000, 1000);
        step16[f] = static_cast<uint32_t>(f < 4 ? (1 << (7 * f)) + f : g.next(1, 1 << 20));
    }
    std::vector<int32_t> p(rows * ld);
    for (int32_t& v : p) v = g.next(-(1 << 30), 1 << 30);
    for (int32_t bits : {1, 2, 4})
        if (!activation_agrees_on(k, ref, p, rows, ld, threshold, step16, bits)) return false;

    const int64_t edge_rows = 40, edge_filters = 48;
    std::vector<int32_t> edge_threshold(edge_filters);
    std::vector<uint32_t> edge_step(edge_filters);
    for (int64_t f = 0; f < edge_filters; ++f) {
        edge_threshold[f] = g.next(-1000, 1000);
        edge_step[f] = static_cast<uint32_t>(f < 8 ? (1 << 17) - f : g.next(1, 1 << 17));
    }
    std::vector<int32_t> edge(edge_rows * edge_filters);
    for (int32_t bits : {1, 2, 4}) {
        for (int64_t r = 0; r < edge_rows; ++r)
            for (int64_t f = 0; f < edge_filters; ++f) {  // z with (2^b z - 1) near level * step16
                const int64_t target = int64_t{g.next(0, 16)} * edge_step[f] + g.next(-1, 1);
                const int32_t z = f >= 40 && r % 8 == 0 ? (1 << (28 - bits)) + g.next(-1, 1)
                                                        : static_cast<int32_t>((target + 1) >> bits) + g.next(-1, 1);
                edge[r * edge_filters + f] = edge_threshold[f] + z;
            }
        if (!activation_agrees_on(k, ref, edge, edge_rows, edge_filters, edge_threshold, edge_step, bits))
            return false;
    }
    return true;
}

bool counts_and_pools_agree(const Kernels& k, const Kernels& ref, Lcg& g) {
    const auto x = values<uint8_t>(g, 301, 0, 3);
    if (ref.count_nonzero(x.data(), 301) != k.count_nonzero(x.data(), 301)) return false;
    std::vector<int64_t> fanout(301);
    for (int64_t& f : fanout) f = g.next(0, 50);
    for (int64_t channels : {1, 7, 43}) {
        const int64_t cells = 301 / channels;
        int64_t ops1 = 0, ops2 = 0;
        if (ref.count_events(x.data(), cells, channels, fanout.data(), &ops1) !=
                k.count_events(x.data(), cells, channels, fanout.data(), &ops2) ||
            ops1 != ops2)
            return false;
    }
    // A 5x5 grid of 11 filters (16 apart), 2x2 pools of stride 2 padded at the start, then unpadded
    // (the unrolled windows of the SIMD pools, and a clipped last one).
    std::vector<int32_t> potentials(25 * 16);
    for (int32_t& v : potentials) v = g.next(-(1 << 21), 1 << 21);
    std::vector<int32_t> pool1(9 * 11), pool2(pool1.size());
    for (int32_t pad : {1, 0}) {
        const PoolGeometry geometry{5, 5, 2, 2, 2, 2, pad, pad, 3, 3, 16, 11};
        ref.max_pool(potentials.data(), geometry, pool1.data());
        k.max_pool(potentials.data(), geometry, pool2.data());
        if (pool1 != pool2) return false;
    }
    // Global sums of 43 filters (a block of 32, one of 8 and 3) over 30 positions, 48 apart, that saturate.
    std::vector<int32_t> sums(30 * 48);
    for (int32_t& v : sums) v = g.next(-(1 << 21), 1 << 21);
    std::vector<int32_t> sum1(43), sum2(43);
    ref.global_sum(sums.data(), 30, 48, 43, sum1.data());
    k.global_sum(sums.data(), 30, 48, 43, sum2.data());
    return sum1 == sum2;
}

}  // namespace

bool kernels_agree(const Kernels& candidate) {
    const Kernels& ref = scalar_kernels();
    Lcg g;
    return products_agree(candidate, ref, g) && depthwise_agrees(candidate, ref, g) &&
           activation_agrees(candidate, ref, g) && counts_and_pools_agree(candidate, ref, g);
}

}  // namespace akq
