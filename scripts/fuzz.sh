#!/usr/bin/env bash
# Build a libFuzzer harness of tests/fuzz with clang (ASan + UBSan) and run it.
#   scripts/fuzz.sh [seconds=60] [harness=fuzz_model_file|fuzz_engine] [extra libFuzzer flags...]
# Needs clang and libFuzzer: apt-get install -y clang libclang-rt-14-dev
# AKQ_EMULATE_SIMD=1 builds the families above AVX2 on SIMDe (csrc/akq/engine/isa.hpp, libsimde-dev), so
# that fuzz_engine compares them with the scalar kernels on a CPU without them.
# Seeds come from tests/fuzz/corpus/<model_file|engine>; new inputs go to build/fuzz/corpus-<harness>,
# crashes to build/fuzz/artifacts/. docs/fuzzing.md has the longer runs and what they found.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
harness=${2:-fuzz_model_file}
shift $(( $# > 2 ? 2 : $# ))
out=build/fuzz${AKQ_EMULATE_SIMD:+/emulate}
mkdir -p "$out/artifacts" "$out/corpus-$harness" "$out/obj"
CXX=${CXX:-clang++}
flags=(-std=c++17 -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -Icsrc)

# Compile the parts of the core the harnesses use, once per change (each kernel family with its
# instruction set, as CMake does).
avx2=(-mavx2 -mfma -mbmi2)
avx512=("${avx2[@]}" -mavx512f -mavx512bw -mavx512vl)
objects=()
for src in csrc/akq/model.cpp csrc/akq/simd.cpp $(find csrc/akq/io csrc/akq/engine -name '*.cpp' | sort); do
  obj="$out/obj/$(echo "${src%.cpp}" | tr / _).o"
  extra=()
  case $src in
    */kernels_avx2.cpp) extra=("${avx2[@]}") ;;
    */kernels_avx_vnni.cpp) extra=("${avx2[@]}" -mavxvnni) ;;
    */kernels_avx512.cpp) extra=("${avx512[@]}") ;;
    */kernels_avx512_vnni.cpp) extra=("${avx512[@]}" -mavx512vnni) ;;
  esac
  if [[ -n ${AKQ_EMULATE_SIMD:-} ]]; then
    case $src in
      */kernels_avx_vnni.cpp | */kernels_avx512*.cpp) extra=("${avx2[@]}" -DAKQ_EMULATE_SIMD) ;;
      */simd.cpp) extra=(-DAKQ_EMULATE_SIMD) ;;
    esac
  fi
  if [[ ! -f $obj || -n $(find "$src" csrc/akq -name '*.hpp' -newer "$obj" -print -quit) || $src -nt $obj ]]; then
    "$CXX" "${flags[@]}" "${extra[@]}" -c "$src" -o "$obj"
  fi
  objects+=("$obj")
done
binary="$out/$harness"
"$CXX" "${flags[@]}" -fsanitize=fuzzer "tests/fuzz/$harness.cpp" "${objects[@]}" -o "$binary" -lpthread

seeds=tests/fuzz/corpus/${harness#fuzz_}
exec "$binary" "$out/corpus-$harness" "$seeds" -dict=tests/fuzz/akq.dict -max_total_time="$seconds" \
  -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 -print_final_stats=1 \
  -artifact_prefix="$out/artifacts/" "$@"
