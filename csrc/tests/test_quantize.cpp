// Unit tests of the quantize kernels (docs/spec A.1): ties, clipping, zero ranges, bad input, and the
// portable and AVX2 loops giving bit-identical results.
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

#include "akq/error.hpp"
#include "akq/quantize.hpp"
#include "akq/quantize_loops.hpp"
#include "check.hpp"

namespace {

using akq_test::failures;

template <class Call>
bool throws_quantization_error(Call&& call) {
    return akq_test::throws(std::forward<Call>(call), akq::ErrorKind::Quantization);
}

akq::KernelView view(const std::vector<float>& w, std::size_t channels) { return {w.data(), w.size(), channels}; }

std::vector<int8_t> ints(const std::vector<float>& w, std::size_t channels, const std::vector<float>& sf, int bits) {
    std::vector<int8_t> out(w.size());
    akq::quantize_int8(view(w, channels), {sf.data(), sf.size()}, bits, out.data());
    return out;
}

std::vector<float> max_sf(const std::vector<float>& w, std::size_t channels, bool per_axis, int bits) {
    return akq::max_scale_factors(view(w, channels), per_axis, bits);
}

void test_kmax() {
    CHECK(akq::weight_kmax(2) == 1);
    CHECK(akq::weight_kmax(4) == 7);
    CHECK(akq::weight_kmax(8) == 127);
    CHECK(throws_quantization_error([] { akq::weight_kmax(1); }));
    CHECK(throws_quantization_error([] { akq::weight_kmax(9); }));
}

void test_ties_round_half_to_even() {
    const std::vector<float> w{0.5f, 1.5f, 2.5f, -0.5f, -2.5f, 3.5f, -3.5f, -0.25f};
    CHECK((ints(w, 1, {1.0f}, 4) == std::vector<int8_t>{0, 2, 2, 0, -2, 4, -4, 0}));
    // sf = 4: w * 4 = k + 0.5 exactly.
    const std::vector<float> q{0.125f, 0.375f, -0.625f};
    CHECK((ints(q, 1, {4.0f}, 4) == std::vector<int8_t>{0, 2, -2}));
}

void test_clipping() {
    const std::vector<float> w{100.0f, -100.0f, 7.4f, -7.6f, 1e30f, -1e30f};
    CHECK((ints(w, 1, {1.0f}, 4) == std::vector<int8_t>{7, -7, 7, -7, 7, -7}));
    CHECK((ints(w, 1, {1.0f}, 8) == std::vector<int8_t>{100, -100, 7, -8, 127, -127}));
    CHECK((ints(w, 1, {1.0f}, 2) == std::vector<int8_t>{1, -1, 1, -1, 1, -1}));
    // Per channel: channel 0 scaled by 1, channel 1 by 0.5.
    const std::vector<float> pc{3.0f, 3.0f, -5.0f, -5.0f};
    CHECK((ints(pc, 2, {1.0f, 0.5f}, 4) == std::vector<int8_t>{3, 2, -5, -2}));
}

void test_zero_range_gives_1000() {
    const std::vector<float> zeros(24, 0.0f);
    CHECK(max_sf(zeros, 4, false, 4) == std::vector<float>{1000.0f});
    CHECK(max_sf(zeros, 4, true, 4) == std::vector<float>(4, 1000.0f));
    // Tiny weights: kmax / range > 1000 clips to 1000.
    const std::vector<float> tiny{1e-30f, -1e-30f, 2e-30f, 0.0f};
    CHECK(max_sf(tiny, 2, true, 8) == std::vector<float>(2, 1000.0f));
    CHECK(max_sf(tiny, 2, false, 8) == std::vector<float>{1000.0f});
}

void test_known_scale_factors() {
    // Rows (1, -2) and (0.5, 4): channel 0 = {1, 0.5}, channel 1 = {-2, 4}.
    const std::vector<float> w{1.0f, -2.0f, 0.5f, 4.0f};
    const float kmax = 7.0f;
    CHECK(max_sf(w, 2, false, 4) == std::vector<float>{kmax / 4.0f});
    CHECK((max_sf(w, 2, true, 4) == std::vector<float>{kmax / 1.0f, kmax / 4.0f}));
}

void test_bad_input() {
    const std::vector<float> w{1.0f, 2.0f, 3.0f, 4.0f};
    std::vector<int8_t> i8(4);
    for (float bad : {std::numeric_limits<float>::quiet_NaN(), INFINITY, -INFINITY}) {
        std::vector<float> v = w;
        v[2] = bad;
        const float one = 1.0f;
        CHECK(throws_quantization_error([&] { akq::quantize_int8(view(v, 2), {&one, 1}, 4, i8.data()); }));
        for (bool per_axis : {false, true})
            CHECK(throws_quantization_error([&] { max_sf(v, 2, per_axis, 4); }));
    }
    const std::vector<float> three(3, 1.0f);
    CHECK(throws_quantization_error([&] { akq::quantize_int8(view(w, 2), {three.data(), 3}, 4, i8.data()); }));
    for (float sf : {0.0f, -1.0f, std::numeric_limits<float>::quiet_NaN(), INFINITY})
        CHECK(throws_quantization_error([&] { akq::quantize_int8(view(w, 2), {&sf, 1}, 4, i8.data()); }));
    CHECK(throws_quantization_error([&] { akq::quantize_int8(view(w, 3), {three.data(), 1}, 4, i8.data()); }));
    CHECK(throws_quantization_error([&] { akq::max_scale_factors({w.data(), 0, 2}, false, 4); }));
    CHECK(throws_quantization_error([&] { max_sf(w, 2, false, 1); }));
}

// Per-channel ranges of a kernel with a short channel axis (not a divisor of the loop width) against
// a plain loop.
void test_short_channel_axis() {
    const std::size_t channels = 3, rows = 101;
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.5f, 2.0f);
    std::vector<float> w(rows * channels);
    for (float& x : w) x = normal(rng);
    const std::vector<float> sf_max = max_sf(w, channels, true, 8);
    for (std::size_t c = 0; c < channels; ++c) {
        float max_abs = 0.0f;
        for (std::size_t r = 0; r < rows; ++r) max_abs = std::fmax(max_abs, std::fabs(w[r * channels + c]));
        CHECK(sf_max[c] == 127.0f / max_abs);
    }
}

void test_portable_and_avx2_agree() {
    const akq::quantize_loops::Loops* avx2 = akq::quantize_loops::avx2_loops();
    if (!avx2) {
        std::printf("no AVX2 on this machine: portable loops only\n");
        return;
    }
    const akq::quantize_loops::Loops& portable = akq::quantize_loops::portable_loops();
    std::mt19937 rng(3);
    std::normal_distribution<float> normal(0.1f, 1.5f);
    for (std::size_t width : {1u, 7u, 64u, 96u, 515u}) {
        const std::size_t size = width * 37 + width / 2;
        std::vector<float> w(size), sf(width);
        for (float& x : w) x = normal(rng);
        for (float& s : sf) s = std::fabs(normal(rng)) * 20.0f + 0.01f;
        std::vector<float> max_a(width, 0.0f), max_b(width, 0.0f);
        portable.column_abs_max(w.data(), size, width, max_a.data());
        avx2->column_abs_max(w.data(), size, width, max_b.data());
        CHECK(max_a == max_b);
        std::vector<int8_t> ia(size), ib(size);
        CHECK(portable.to_int8(w.data(), size, sf.data(), width, 127.0f, ia.data()));
        CHECK(avx2->to_int8(w.data(), size, sf.data(), width, 127.0f, ib.data()));
        CHECK(ia == ib);
    }
}

}  // namespace

int main() {
    test_kmax();
    test_ties_round_half_to_even();
    test_clipping();
    test_zero_range_gives_1000();
    test_known_scale_factors();
    test_bad_input();
    test_short_channel_axis();
    test_portable_and_avx2_agree();
    if (failures) {
        std::fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    std::printf("test_quantize: all checks passed\n");
    return 0;
}
