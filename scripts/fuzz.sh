#!/usr/bin/env bash
# Build the libFuzzer harnesses of tests/fuzz with clang (ASan + UBSan) and run one of them.
#   scripts/fuzz.sh [seconds=60] [harness=fuzz_model_file] [extra libFuzzer flags...]
# Needs clang and libFuzzer: apt-get install -y clang libclang-rt-14-dev
# New interesting inputs go to build/fuzz/corpus-<harness>; crashes to build/fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
harness=${2:-fuzz_model_file}
shift $(( $# > 2 ? 2 : $# ))
out=build/fuzz
mkdir -p "$out/artifacts" "$out/corpus-$harness"
CXX=${CXX:-clang++}
binary="$out/$harness"
sources=(tests/fuzz/$harness.cpp $(find csrc/akq -name '*.cpp' | sort))
if [[ ! -x $binary ]] || [[ -n $(find "${sources[@]}" csrc/akq -newer "$binary" -print -quit) ]]; then
  "$CXX" -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -Icsrc "${sources[@]}" -o "$binary" -lpthread
fi
seeds=tests/fuzz/corpus/${harness#fuzz_}
exec "$binary" "$out/corpus-$harness" "$seeds" -dict=tests/fuzz/akq.dict -max_total_time="$seconds" \
  -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 -print_final_stats=1 \
  -artifact_prefix="$out/artifacts/" "$@"
