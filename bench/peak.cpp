// The per-core multiply-accumulate peak of each SIMD family this CPU has, for bench/engine.py: the
// engine's inner uint8 x int8 instructions on independent registers, timed. Prints JSON
// {"family": GMAC/s}.   c++ -O2 bench/peak.cpp -o peak && ./peak
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

// AVX2 / AVX-512: 6 vpmaddubsw into temporaries, each added (vpaddw) to its own int16 sum, as the
// kernels without VNNI do: 6 x 32 (ymm) or 6 x 64 (zmm) products per iteration.
#define AKQ_MADDUBS_ADD(R) \
    "vpmaddubsw %%" R "14, %%" R "15, %%" R "0\n vpaddw %%" R "0, %%" R "6, %%" R "6\n" \
    "vpmaddubsw %%" R "14, %%" R "15, %%" R "1\n vpaddw %%" R "1, %%" R "7, %%" R "7\n" \
    "vpmaddubsw %%" R "14, %%" R "15, %%" R "2\n vpaddw %%" R "2, %%" R "8, %%" R "8\n" \
    "vpmaddubsw %%" R "14, %%" R "15, %%" R "3\n vpaddw %%" R "3, %%" R "9, %%" R "9\n" \
    "vpmaddubsw %%" R "14, %%" R "15, %%" R "4\n vpaddw %%" R "4, %%" R "10, %%" R "10\n" \
    "vpmaddubsw %%" R "14, %%" R "15, %%" R "5\n vpaddw %%" R "5, %%" R "11, %%" R "11\n"
// VNNI: 12 vpdpbusd accumulators (enough to hide the latency), 12 x 32 or 12 x 64 products.
#define AKQ_DPBUSD(P, R)                                                                              \
    P "vpdpbusd %%" R "14, %%" R "15, %%" R "0\n " P "vpdpbusd %%" R "14, %%" R "15, %%" R "1\n "    \
    P "vpdpbusd %%" R "14, %%" R "15, %%" R "2\n " P "vpdpbusd %%" R "14, %%" R "15, %%" R "3\n "    \
    P "vpdpbusd %%" R "14, %%" R "15, %%" R "4\n " P "vpdpbusd %%" R "14, %%" R "15, %%" R "5\n "    \
    P "vpdpbusd %%" R "14, %%" R "15, %%" R "6\n " P "vpdpbusd %%" R "14, %%" R "15, %%" R "7\n "    \
    P "vpdpbusd %%" R "14, %%" R "15, %%" R "8\n " P "vpdpbusd %%" R "14, %%" R "15, %%" R "9\n "    \
    P "vpdpbusd %%" R "14, %%" R "15, %%" R "10\n " P "vpdpbusd %%" R "14, %%" R "15, %%" R "11\n"
#define AKQ_YMM_CLOBBERS \
    "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11"

void avx2(long n) {
    for (long i = 0; i < n; ++i) asm volatile(AKQ_MADDUBS_ADD("ymm") ::: AKQ_YMM_CLOBBERS);
}
void avx512(long n) {
    for (long i = 0; i < n; ++i) asm volatile(AKQ_MADDUBS_ADD("zmm") ::: AKQ_YMM_CLOBBERS);
}
void avx_vnni(long n) {
    for (long i = 0; i < n; ++i) asm volatile(AKQ_DPBUSD("%{vex%} ", "ymm") ::: AKQ_YMM_CLOBBERS);
}
void avx512_vnni(long n) {
    for (long i = 0; i < n; ++i) asm volatile(AKQ_DPBUSD("", "zmm") ::: AKQ_YMM_CLOBBERS);
}

}  // namespace

int main() {
    __builtin_cpu_init();
    std::printf("{");
    const char* sep = "";
    auto report = [&](const char* name, long macs, void (*body)(long)) {
        std::printf("%s\"%s\": %.1f", sep, name, gmacs(macs, body));
        sep = ", ";
    };
    if (__builtin_cpu_supports("avx2")) report("avx2", 6 * 32, avx2);
    if (__builtin_cpu_supports("avxvnni")) report("avx-vnni", 12 * 32, avx_vnni);
    if (__builtin_cpu_supports("avx512bw")) report("avx512", 6 * 64, avx512);
    if (__builtin_cpu_supports("avx512vnni")) report("avx512-vnni", 12 * 64, avx512_vnni);
    std::printf("}\n");
}
