// CPU feature detection: cpuid says what the core implements, xgetbv whether the OS saves the
// registers (YMM for AVX2, ZMM and mask registers for AVX-512) on a context switch.
#include "akq/simd.hpp"

#include <atomic>
#include <cstdint>
#include <cstdlib>

#include "akq/error.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace akq {

namespace {

constexpr const char* kNames[kSimdLevels] = {"scalar", "avx2", "avx-vnni", "avx512", "avx512-vnni"};

#if defined(__x86_64__) || defined(__i386__)
uint64_t xcr0() {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return (uint64_t{edx} << 32) | eax;
}

bool bit(uint32_t reg, int b) { return (reg >> b) & 1u; }

#if defined(AKQ_EMULATE_SIMD)
constexpr bool kEmulated = true;  // a test build: the families above AVX2 run on SIMDe (engine/isa.hpp)
#else
constexpr bool kEmulated = false;
#endif

// Supported families as a bit mask over SimdLevel.
unsigned detect() {
    unsigned mask = 1u << static_cast<int>(SimdLevel::Scalar);
    uint32_t a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return mask;
    const bool fma = bit(c, 12), osxsave = bit(c, 27), avx = bit(c, 28);
    if (!osxsave || !avx || __get_cpuid_max(0, nullptr) < 7) return mask;
    const uint64_t xcr = xcr0();
    const bool os_ymm = (xcr & 0x6) == 0x6, os_zmm = (xcr & 0xE6) == 0xE6;  // XMM|YMM, + opmask|ZMM
    __cpuid_count(7, 0, a, b, c, d);
    const bool avx2 = bit(b, 5), bmi2 = bit(b, 8), avx512f = bit(b, 16), avx512bw = bit(b, 30);
    const bool avx512vl = bit(b, 31), avx512vnni = bit(c, 11);
    const uint32_t max_subleaf = a;
    uint32_t a1 = 0, b1, c1, d1;
    if (max_subleaf >= 1) __cpuid_count(7, 1, a1, b1, c1, d1);
    const bool avxvnni = bit(a1, 4);
    if (!(os_ymm && avx2 && fma && bmi2)) return mask;
    mask |= 1u << static_cast<int>(SimdLevel::Avx2);
    if (avxvnni || kEmulated) mask |= 1u << static_cast<int>(SimdLevel::AvxVnni);
    if ((os_zmm && avx512f && avx512bw && avx512vl) || kEmulated) {
        mask |= 1u << static_cast<int>(SimdLevel::Avx512);
        if (avx512vnni || kEmulated) mask |= 1u << static_cast<int>(SimdLevel::Avx512Vnni);
    }
    return mask;
}
#else
unsigned detect() { return 1u; }
#endif

unsigned supported_mask() {
    static const unsigned mask = detect();
    return mask;
}

std::atomic<SimdLevel>& requested() {
    static std::atomic<SimdLevel> level{[] {
        const char* env = std::getenv("AKQ_SIMD");
        return parse_simd_level(env ? env : "auto");
    }()};
    return level;
}

}  // namespace

bool simd_level_supported(SimdLevel level) { return (supported_mask() >> static_cast<int>(level)) & 1u; }

std::vector<SimdLevel> supported_simd_levels() {
    std::vector<SimdLevel> out;
    for (int l = 0; l < kSimdLevels; ++l)
        if (simd_level_supported(static_cast<SimdLevel>(l))) out.push_back(static_cast<SimdLevel>(l));
    return out;
}

SimdLevel best_simd_level() { return supported_simd_levels().back(); }

std::string simd_level_name(SimdLevel level) { return kNames[static_cast<int>(level)]; }

SimdLevel parse_simd_level(const std::string& name) {
    if (name == "auto" || name.empty()) return best_simd_level();
    for (int l = 0; l < kSimdLevels; ++l) {
        if (name != kNames[l]) continue;
        if (!simd_level_supported(static_cast<SimdLevel>(l)))
            throw Error(ErrorKind::InvalidArgument, "SIMD level '" + name + "' is not supported by this CPU");
        return static_cast<SimdLevel>(l);
    }
    std::string known;
    for (const char* n : kNames) known += std::string(known.empty() ? "" : ", ") + "'" + n + "'";
    throw Error(ErrorKind::InvalidArgument, "unknown SIMD level '" + name + "'; use 'auto', " + known);
}

SimdLevel requested_simd_level() { return requested().load(); }

void set_simd_level(const std::string& name) { requested().store(parse_simd_level(name)); }

}  // namespace akq
