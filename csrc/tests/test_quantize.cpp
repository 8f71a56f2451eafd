// Unit tests of the quantize kernels (docs/spec A.1): ties, clipping, zero ranges, bad input, and the
// portable and AVX2 loops giving bit-identical results.
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstring>
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

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

akq::KernelView view(const std::vector<float>& w, std::size_t channels) { return {w.data(), w.size(), channels}; }

std::vector<int8_t> ints(const std::vector<float>& w, std::size_t channels, const std::vector<float>& sf, int bits) {
    std::vector<int8_t> out(w.size());
    akq::quantize_int8(view(w, channels), {sf.data(), sf.size()}, bits, out.data());
    return out;
}

std::vector<float> fakes(const std::vector<float>& w, std::size_t channels, const std::vector<float>& sf, int bits) {
    std::vector<float> out(w.size());
    akq::fake_quantize(view(w, channels), {sf.data(), sf.size()}, bits, out.data());
    return out;
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
    const std::vector<float> f = fakes(w, 1, {1.0f}, 4);
    CHECK(f[1] == 2.0f && f[2] == 2.0f && f[4] == -2.0f);
    // Zeros are +0, as the reference's straight-through round: -0.5 + (round(-0.5) + 0.5) = +0.
    CHECK(f[3] == 0.0f && !std::signbit(f[3]));
    CHECK(!std::signbit(f[7]) && !std::signbit(f[0]));
}

void test_clipping() {
    const std::vector<float> w{100.0f, -100.0f, 7.4f, -7.6f, 1e30f, -1e30f};
    CHECK((ints(w, 1, {1.0f}, 4) == std::vector<int8_t>{7, -7, 7, -7, 7, -7}));
    CHECK((ints(w, 1, {1.0f}, 8) == std::vector<int8_t>{100, -100, 7, -8, 127, -127}));
    CHECK((ints(w, 1, {1.0f}, 2) == std::vector<int8_t>{1, -1, 1, -1, 1, -1}));
    // Per channel: channel 0 scaled by 1, channel 1 by 0.5.
    const std::vector<float> pc{3.0f, 3.0f, -5.0f, -5.0f};
    CHECK((ints(pc, 2, {1.0f, 0.5f}, 4) == std::vector<int8_t>{3, 2, -5, -2}));
    const std::vector<float> f = fakes(pc, 2, {1.0f, 0.5f}, 4);
    CHECK(f[1] == 4.0f && f[3] == -4.0f);
}

void test_zero_range_gives_1000() {
    const std::vector<float> zeros(24, 0.0f);
    for (auto method : {akq::RangeMethod::Max, akq::RangeMethod::Std}) {
        CHECK(akq::scale_factors(view(zeros, 4), method, false, 4, 3.0f) == std::vector<float>{1000.0f});
        CHECK(akq::scale_factors(view(zeros, 4), method, true, 4, 3.0f) == std::vector<float>(4, 1000.0f));
    }
    // Tiny weights: kmax / range > 1000 clips to 1000.
    const std::vector<float> tiny{1e-30f, -1e-30f, 2e-30f, 0.0f};
    CHECK(akq::scale_factors(view(tiny, 2), akq::RangeMethod::Max, true, 8, 3.0f) == std::vector<float>(2, 1000.0f));
    CHECK(akq::scale_factors(view(tiny, 2), akq::RangeMethod::Std, false, 8, 3.0f) == std::vector<float>{1000.0f});
}

void test_known_scale_factors() {
    // Rows (1, -2) and (0.5, 4): channel 0 = {1, 0.5}, channel 1 = {-2, 4}.
    const std::vector<float> w{1.0f, -2.0f, 0.5f, 4.0f};
    const float kmax = 7.0f;
    CHECK(akq::scale_factors(view(w, 2), akq::RangeMethod::Max, false, 4, 3.0f) == std::vector<float>{kmax / 4.0f});
    CHECK((akq::scale_factors(view(w, 2), akq::RangeMethod::Max, true, 4, 3.0f) ==
           std::vector<float>{kmax / 1.0f, kmax / 4.0f}));
    // Population std of {1, 2, 3, 4} is sqrt(1.25); channel stds of the 2x2 kernel are 0.25 and 3.
    const std::vector<float> v{1.0f, 2.0f, 3.0f, 4.0f};
    const float std_all = static_cast<float>(std::sqrt(1.25));
    CHECK(akq::scale_factors(view(v, 4), akq::RangeMethod::Std, false, 4, 2.0f) ==
          std::vector<float>{kmax / (2.0f * std_all)});
    CHECK((akq::scale_factors(view(w, 2), akq::RangeMethod::Std, true, 4, 2.0f) ==
           std::vector<float>{kmax / (2.0f * 0.25f), kmax / (2.0f * 3.0f)}));
}

void test_bad_input() {
    const std::vector<float> w{1.0f, 2.0f, 3.0f, 4.0f};
    std::vector<int8_t> i8(4);
    std::vector<float> f32(4);
    for (float bad : {std::numeric_limits<float>::quiet_NaN(), INFINITY, -INFINITY}) {
        std::vector<float> v = w;
        v[2] = bad;
        const float one = 1.0f;
        CHECK(throws_quantization_error([&] { akq::quantize_int8(view(v, 2), {&one, 1}, 4, i8.data()); }));
        CHECK(throws_quantization_error([&] { akq::fake_quantize(view(v, 2), {&one, 1}, 4, f32.data()); }));
        for (bool per_axis : {false, true})
            for (auto method : {akq::RangeMethod::Max, akq::RangeMethod::Std})
                CHECK(throws_quantization_error([&] { akq::scale_factors(view(v, 2), method, per_axis, 4, 3.0f); }));
    }
    const std::vector<float> three(3, 1.0f);
    CHECK(throws_quantization_error([&] { akq::quantize_int8(view(w, 2), {three.data(), 3}, 4, i8.data()); }));
    for (float sf : {0.0f, -1.0f, std::numeric_limits<float>::quiet_NaN(), INFINITY})
        CHECK(throws_quantization_error([&] { akq::fake_quantize(view(w, 2), {&sf, 1}, 4, f32.data()); }));
    CHECK(throws_quantization_error([&] { akq::quantize_int8(view(w, 3), {three.data(), 1}, 4, i8.data()); }));
    CHECK(throws_quantization_error([&] { akq::scale_factors({w.data(), 0, 2}, akq::RangeMethod::Max, false, 4, 3.0f); }));
    CHECK(throws_quantization_error([&] { akq::scale_factors(view(w, 2), akq::RangeMethod::Std, false, 4, 0.0f); }));
    CHECK(throws_quantization_error([&] { akq::scale_factors(view(w, 2), akq::RangeMethod::Max, false, 1, 3.0f); }));
}

// Per-channel ranges of a kernel with a short channel axis (not a divisor of the loop width) against
// a plain two-pass double computation.
void test_short_channel_axis() {
    const std::size_t channels = 3, rows = 101;
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.5f, 2.0f);
    std::vector<float> w(rows * channels);
    for (float& x : w) x = normal(rng);
    const std::vector<float> sf_max = akq::scale_factors(view(w, channels), akq::RangeMethod::Max, true, 8, 3.0f);
    const std::vector<float> sf_std = akq::scale_factors(view(w, channels), akq::RangeMethod::Std, true, 8, 3.0f);
    for (std::size_t c = 0; c < channels; ++c) {
        float max_abs = 0.0f;
        double sum = 0.0, squares = 0.0;
        for (std::size_t r = 0; r < rows; ++r) max_abs = std::fmax(max_abs, std::fabs(w[r * channels + c]));
        for (std::size_t r = 0; r < rows; ++r) sum += w[r * channels + c];
        const double mean = sum / rows;
        for (std::size_t r = 0; r < rows; ++r) squares += (w[r * channels + c] - mean) * (w[r * channels + c] - mean);
        CHECK(sf_max[c] == 127.0f / max_abs);
        const float expected_std = 127.0f / (3.0f * static_cast<float>(std::sqrt(squares / rows)));
        CHECK(std::fabs(sf_std[c] - expected_std) <= 1e-6f * expected_std);
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
        std::vector<double> s1a(width, 0.0), s2a(width, 0.0), s1b(width, 0.0), s2b(width, 0.0);
        portable.column_shifted_sums(w.data(), size, width, s1a.data(), s2a.data());
        avx2->column_shifted_sums(w.data(), size, width, s1b.data(), s2b.data());
        CHECK(std::memcmp(s1a.data(), s1b.data(), width * sizeof(double)) == 0);
        CHECK(std::memcmp(s2a.data(), s2b.data(), width * sizeof(double)) == 0);
        std::vector<int8_t> ia(size), ib(size);
        CHECK(portable.to_int8(w.data(), size, sf.data(), width, 127.0f, ia.data()));
        CHECK(avx2->to_int8(w.data(), size, sf.data(), width, 127.0f, ib.data()));
        CHECK(ia == ib);
        std::vector<float> fa(size), fb(size);
        CHECK(portable.to_fake(w.data(), size, sf.data(), width, 7.0f, fa.data()));
        CHECK(avx2->to_fake(w.data(), size, sf.data(), width, 7.0f, fb.data()));
        bool identical = true;
        for (std::size_t i = 0; i < size; ++i) identical = identical && same_bits(fa[i], fb[i]);
        CHECK(identical);
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
