// Run-time choice of the kernel implementation: the best the CPU has, unless AKQ_SIMD or
// set_simd_level() asks for another (tests force every path this way).
#include <atomic>
#include <cstdlib>

#include "akq/engine/kernels.hpp"
#include "akq/error.hpp"

namespace akq {

namespace {

SimdLevel parse(const std::string& name) {
    if (name == "auto" || name.empty()) return best_simd_level();
    if (name == "scalar") return SimdLevel::Scalar;
    if (name == "avx2") {
        if (best_simd_level() < SimdLevel::Avx2)
            throw Error(ErrorKind::InvalidArgument, "SIMD level 'avx2' is not supported by this CPU");
        return SimdLevel::Avx2;
    }
    throw Error(ErrorKind::InvalidArgument,
                "unknown SIMD level '" + name + "'; use 'auto', 'scalar' or 'avx2'");
}

std::atomic<SimdLevel>& current() {
    static std::atomic<SimdLevel> level{[] {
        const char* env = std::getenv("AKQ_SIMD");
        return parse(env ? env : "auto");
    }()};
    return level;
}

}  // namespace

SimdLevel best_simd_level() {
#if defined(__x86_64__) || defined(__i386__)
    if (__builtin_cpu_supports("avx2")) return SimdLevel::Avx2;
#endif
    return SimdLevel::Scalar;
}

SimdLevel simd_level() { return current().load(); }

void set_simd_level(const std::string& name) { current().store(parse(name)); }

std::string simd_level_name(SimdLevel level) { return level == SimdLevel::Avx2 ? "avx2" : "scalar"; }

const Kernels& kernels() { return simd_level() == SimdLevel::Avx2 ? avx2_kernels() : scalar_kernels(); }

}  // namespace akq
