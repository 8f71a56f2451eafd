// The per-core multiply-accumulate peaks of each SIMD family this CPU has, for bench/engine.py: the
// engine's inner uint8 x int8 and int16 x int16 instructions on independent registers, timed. Prints
// JSON {"family": {"uint8": GMAC/s, "int16": GMAC/s}}.   c++ -O2 bench/peak.cpp -o peak && ./peak
#include <time.h>

#include <cstdio>

namespace {

constexpr long kIterations = 50000000;

double cpu_seconds() {
    timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// GMAC/s of body(n), which runs n iterations of macs products each, per second of this thread's CPU
// time (time other processes hold the core is not counted), best of 3.
double gmacs(long macs, void (*body)(long)) {
    body(kIterations / 10);  // warm up the clock
    double best = 0;
    for (int round = 0; round < 3; ++round) {
        const double start = cpu_seconds();
        body(kIterations);
        const double rate = static_cast<double>(macs) * kIterations / (cpu_seconds() - start) / 1e9;
        best = rate > best ? rate : best;
    }
    return best;
}

// One multiply of the broadcast-like operands 14 and 15 into register D (R: "ymm" or "zmm").
#define AKQ_MUL(OP, R, D) OP " %%" R "14, %%" R "15, %%" R #D "\n "
// AVX2 / AVX-512: 6 multiplies (vpmaddubsw: 32 or 64 products; vpmaddwd: 16 or 32) into temporaries
// T, each added (vpaddw, vpaddd) to its own sum S, as the kernels without VNNI do.
#define AKQ_MUL_ADD1(MUL, ADD, R, T, S) AKQ_MUL(MUL, R, T) ADD " %%" R #T ", %%" R #S ", %%" R #S "\n "
#define AKQ_MUL_ADD(MUL, ADD, R)                                                                  \
    AKQ_MUL_ADD1(MUL, ADD, R, 0, 6) AKQ_MUL_ADD1(MUL, ADD, R, 1, 7) AKQ_MUL_ADD1(MUL, ADD, R, 2, 8) \
    AKQ_MUL_ADD1(MUL, ADD, R, 3, 9) AKQ_MUL_ADD1(MUL, ADD, R, 4, 10) AKQ_MUL_ADD1(MUL, ADD, R, 5, 11)
// VNNI: 12 accumulators of vpdpbusd (uint8 quads) or vpdpwssd (int16 pairs), enough to hide the latency.
#define AKQ_DOT(DOT, R)                                                                                  \
    AKQ_MUL(DOT, R, 0) AKQ_MUL(DOT, R, 1) AKQ_MUL(DOT, R, 2) AKQ_MUL(DOT, R, 3) AKQ_MUL(DOT, R, 4)       \
    AKQ_MUL(DOT, R, 5) AKQ_MUL(DOT, R, 6) AKQ_MUL(DOT, R, 7) AKQ_MUL(DOT, R, 8) AKQ_MUL(DOT, R, 9)       \
    AKQ_MUL(DOT, R, 10) AKQ_MUL(DOT, R, 11)
#define AKQ_YMM_CLOBBERS \
    "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11"
#define AKQ_LOOP(NAME, ASM) \
    void NAME(long n) {     \
        for (long i = 0; i < n; ++i) asm volatile(ASM ::: AKQ_YMM_CLOBBERS); \
    }

AKQ_LOOP(avx2_u8, AKQ_MUL_ADD("vpmaddubsw", "vpaddw", "ymm"))
AKQ_LOOP(avx2_s16, AKQ_MUL_ADD("vpmaddwd", "vpaddd", "ymm"))
AKQ_LOOP(avx512_u8, AKQ_MUL_ADD("vpmaddubsw", "vpaddw", "zmm"))
AKQ_LOOP(avx512_s16, AKQ_MUL_ADD("vpmaddwd", "vpaddd", "zmm"))
AKQ_LOOP(avx_vnni_u8, AKQ_DOT("%{vex%} vpdpbusd", "ymm"))
AKQ_LOOP(avx_vnni_s16, AKQ_DOT("%{vex%} vpdpwssd", "ymm"))
AKQ_LOOP(avx512_vnni_u8, AKQ_DOT("vpdpbusd", "zmm"))
AKQ_LOOP(avx512_vnni_s16, AKQ_DOT("vpdpwssd", "zmm"))

}  // namespace

int main() {
    __builtin_cpu_init();
    std::printf("{");
    const char* sep = "";
    // "family": {"uint8": GMAC/s, "int16": GMAC/s}; lanes: the int32 lanes of one register.
    auto report = [&](const char* name, long multiplies, long lanes, void (*u8)(long), void (*s16)(long)) {
        std::printf("%s\"%s\": {\"uint8\": %.1f, \"int16\": %.1f}", sep, name,
                    gmacs(multiplies * lanes * 4, u8), gmacs(multiplies * lanes * 2, s16));
        sep = ", ";
    };
    if (__builtin_cpu_supports("avx2")) report("avx2", 6, 8, avx2_u8, avx2_s16);
    if (__builtin_cpu_supports("avxvnni")) report("avx-vnni", 12, 8, avx_vnni_u8, avx_vnni_s16);
    if (__builtin_cpu_supports("avx512bw")) report("avx512", 6, 16, avx512_u8, avx512_s16);
    if (__builtin_cpu_supports("avx512vnni")) report("avx512-vnni", 12, 16, avx512_vnni_u8, avx512_vnni_s16);
    std::printf("}\n");
}
