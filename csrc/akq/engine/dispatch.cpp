// Which kernels the engine runs: the requested SIMD family (akq/simd.hpp) if this build has it and it
// passes the known-answer self-check (self_check.cpp) on first use, else the best lower family that
// does. A family that fails is reported once on stderr and in simd_fallback_note().
#include <atomic>
#include <cstdio>
#include <mutex>

#include "akq/engine/kernels.hpp"

namespace akq {

namespace {

enum Verdict : int { kUnchecked = 0, kPassed = 1, kFailed = 2 };

std::atomic<int> verdicts[kSimdLevels];
std::mutex note_mutex;
std::string note;

bool passes(SimdLevel level) {
    std::atomic<int>& verdict = verdicts[static_cast<int>(level)];
    int v = verdict.load(std::memory_order_acquire);
    if (v != kUnchecked) return v == kPassed;
    std::lock_guard<std::mutex> lock(note_mutex);
    v = verdict.load(std::memory_order_relaxed);
    if (v == kUnchecked) {
        const Kernels* k = family_kernels(level);
        const bool ok = level == SimdLevel::Scalar || (k && kernels_agree(*k));
        if (!ok) {
            const std::string why = k ? "disagrees with the scalar kernels on the self-check"
                                      : "is not in this build (the compiler lacked its flags)";
            note += (note.empty() ? "" : "; ") + simd_level_name(level) + " " + why;
            std::fprintf(stderr, "akq: warning: the %s family %s; the engine uses a lower SIMD family\n",
                         simd_level_name(level).c_str(), why.c_str());
        }
        v = ok ? kPassed : kFailed;
        verdict.store(v, std::memory_order_release);
    }
    return v == kPassed;
}

}  // namespace

SimdLevel fall_back(SimdLevel requested, bool (*ok)(SimdLevel)) {
    for (int l = static_cast<int>(requested); l > 0; --l)
        if (simd_level_supported(static_cast<SimdLevel>(l)) && ok(static_cast<SimdLevel>(l)))
            return static_cast<SimdLevel>(l);
    return SimdLevel::Scalar;
}

const Kernels* family_kernels(SimdLevel level) {
    switch (level) {
        case SimdLevel::Scalar: return &scalar_kernels();
        case SimdLevel::Avx2: return avx2_kernels();
        case SimdLevel::AvxVnni: return avx_vnni_kernels();
        case SimdLevel::Avx512: return avx512_kernels();
        case SimdLevel::Avx512Vnni: return avx512_vnni_kernels();
    }
    return nullptr;
}

SimdLevel simd_level() { return fall_back(requested_simd_level(), passes); }

// The family resolved once per requested level (support and verdicts never change after their check):
// layers ask for it several times each, and a model of small layers called one input at a time spent 4%
// of its time resolving it.
const Kernels& kernels() {
    static std::atomic<const Kernels*> resolved[kSimdLevels];
    std::atomic<const Kernels*>& cached = resolved[static_cast<int>(requested_simd_level())];
    const Kernels* k = cached.load(std::memory_order_acquire);
    if (!k) {
        k = family_kernels(simd_level());
        cached.store(k, std::memory_order_release);
    }
    return *k;
}

std::string simd_fallback_note() {
    std::lock_guard<std::mutex> lock(note_mutex);
    return note;
}

}  // namespace akq
