// The run-time choice of kernel families: every family this CPU has passes the known-answer
// self-check, a family that computes one wrong value fails it, the engine falls back from a failing
// family, and the quantize loops follow the same family.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "akq/engine/kernels.hpp"
#include "akq/quantize_loops.hpp"
#include "akq/simd.hpp"
#include "check.hpp"

namespace {

using akq_test::check;
using akq_test::failures;

void test_every_supported_family_passes_the_self_check() {
    for (akq::SimdLevel level : akq::supported_simd_levels()) {
        const akq::Kernels* k = akq::family_kernels(level);
        check(k != nullptr, "a supported family is built (GCC/Clang on x86)");
        if (k) check(akq::kernels_agree(*k), "a supported family agrees with the scalar kernels");
        akq::set_simd_level(akq::simd_level_name(level));
        check(akq::simd_level() == level && akq::simd_fallback_note().empty(), "the engine runs the family set");
    }
    akq::set_simd_level("auto");
    std::printf("families run: ");
    for (akq::SimdLevel level : akq::supported_simd_levels()) std::printf("%s ", akq::simd_level_name(level).c_str());
    std::printf("\n");
}

// One wrong value in any kernel is caught.
void wrong_gemm_u8(const uint8_t* a, int64_t lda, int64_t rows, int32_t segments, int64_t stride, int64_t units,
                   const int8_t* packed, int32_t fp, int32_t group, int32_t* c, int64_t ldc) {
    akq::scalar_kernels().gemm_u8(a, lda, rows, segments, stride, units, packed, fp, group, c, ldc);
    if (rows == 13 && fp == 40) c[ldc * (rows - 1) + fp - 1] += 1;  // one lane of one shape
}
int64_t wrong_depthwise(const uint8_t* origin, int64_t row_stride, int64_t step, int64_t positions, int32_t k0,
                        int32_t k1, int32_t channels, const int16_t* w, const int8_t* pairs, int16_t* out,
                        int64_t ld) {
    const int64_t n = akq::scalar_kernels().depthwise16(origin, row_stride, step, positions, k0, k1, channels, w,
                                                        pairs, out, ld);
    if (channels > 64) out[(positions - 1) * ld + channels - 1] ^= 1;
    return n;
}
int64_t wrong_activation(const int32_t* p, int64_t rows, int64_t ld, int64_t filters, const int32_t* th,
                         const uint32_t* step16, const uint32_t* magic, const uint32_t* shift, int32_t bits,
                         uint8_t* out, int32_t* row_events) {
    return akq::scalar_kernels().activate(p, rows, ld, filters, th, step16, magic, shift, bits, out, row_events) +
           (bits == 4);
}

void test_a_wrong_kernel_fails_the_self_check() {
    akq::Kernels k = akq::scalar_kernels();
    check(akq::kernels_agree(k), "the scalar kernels agree with themselves");
    k.gemm_u8 = wrong_gemm_u8;
    check(!akq::kernels_agree(k), "one wrong uint8 product is caught");
    k = akq::scalar_kernels();
    k.depthwise16 = wrong_depthwise;
    check(!akq::kernels_agree(k), "one wrong depthwise sum is caught");
    k = akq::scalar_kernels();
    k.activate = wrong_activation;
    check(!akq::kernels_agree(k), "a wrong event count of the activation is caught");
}

bool all_pass(akq::SimdLevel) { return true; }
bool only_scalar(akq::SimdLevel level) { return level == akq::SimdLevel::Scalar; }
bool all_but_best(akq::SimdLevel level) { return level != akq::best_simd_level(); }

void test_fall_back_picks_the_best_passing_family_not_above_the_request() {
    const akq::SimdLevel best = akq::best_simd_level();
    check(akq::fall_back(best, all_pass) == best, "a passing family runs");
    check(akq::fall_back(best, only_scalar) == akq::SimdLevel::Scalar, "scalar when nothing else passes");
    check(akq::fall_back(akq::SimdLevel::Scalar, all_pass) == akq::SimdLevel::Scalar, "scalar when asked");
    if (best != akq::SimdLevel::Scalar) {
        const akq::SimdLevel lower = akq::fall_back(best, all_but_best);
        check(lower < best && akq::simd_level_supported(lower), "a failing family falls back to a supported lower one");
    }
}

void test_quantize_loops_follow_the_family() {
    akq::set_simd_level("scalar");
    check(std::string(akq::quantize_loops::fastest_loops().name) == "portable", "scalar: portable quantize loops");
    akq::set_simd_level("auto");
    const bool x86 = akq::simd_level_supported(akq::SimdLevel::Avx2);
    check(!x86 || std::string(akq::quantize_loops::fastest_loops().name) != "portable", "auto: vector quantize loops");
    check(akq::quantize_loops::loops_for(akq::SimdLevel::Avx512) == nullptr ||
              akq::simd_level_supported(akq::SimdLevel::Avx512),
          "no loops for a family the CPU lacks");
}

void test_unknown_and_unsupported_families_are_refused() {
    check(akq_test::throws([] { akq::set_simd_level("avx9"); }, akq::ErrorKind::InvalidArgument), "unknown name");
    for (const char* name : {"scalar", "avx2", "avx-vnni", "avx512", "avx512-vnni"}) {
        const bool supported = [&] {
            for (akq::SimdLevel l : akq::supported_simd_levels())
                if (akq::simd_level_name(l) == name) return true;
            return false;
        }();
        check(supported != akq_test::throws([&] { akq::set_simd_level(name); }, akq::ErrorKind::InvalidArgument),
              "a known family is accepted exactly when the CPU has it");
    }
    akq::set_simd_level("auto");
}

}  // namespace

int main() {
    test_every_supported_family_passes_the_self_check();
    test_a_wrong_kernel_fails_the_self_check();
    test_fall_back_picks_the_best_passing_family_not_above_the_request();
    test_quantize_loops_follow_the_family();
    test_unknown_and_unsupported_families_are_refused();
    if (failures) return EXIT_FAILURE;
    std::puts("test_dispatch: all checks passed");
    return EXIT_SUCCESS;
}
