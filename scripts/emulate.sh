#!/usr/bin/env bash
# Run the kernel families this CPU may lack (AVX-VNNI, AVX-512, AVX-512 VNNI) on any AVX2 machine:
# build with AKQ_EMULATE_SIMD, which takes their intrinsics from SIMDe's portable implementations
# (csrc/akq/engine/isa.hpp; Debian's libsimde-dev), then run ctest and the tests that compare every
# family with the scalar kernels (golden cases, reference engine, engine mutation fuzz) against that
# build's module, staged in build/emulate/python, never python/akq. Exactness only: emulated
# kernels are slow, so time them nowhere.
#   scripts/emulate.sh [pytest arguments, default: those tests]
set -euo pipefail
cd "$(dirname "$0")/.."
build=build/emulate
stage=$PWD/$build/python
cmake -S . -B "$build" -G Ninja -DAKQ_EMULATE_SIMD=ON -DAKQ_BUILD_TESTS=ON -DAKQ_PYTHON_OUTPUT_DIR="$stage/akq" >/dev/null
cmake --build "$build" -j2
ctest --test-dir "$build" --output-on-failure
(cd python && find akq -name '*.py' -print0 | xargs -0 -I{} install -D -m 644 {} "$stage/{}")
PYTHONPATH="$stage" python - <<'PY'
import akq._core as c
levels = c.supported_simd_levels()
assert levels == ["scalar", "avx2", "avx-vnni", "avx512", "avx512-vnni"], levels
print("emulated build:", c.__file__, "families:", " ".join(levels))
PY
default=(tests/test_engine_golden.py tests/test_engine_reference.py tests/test_engine_api.py
         "tests/fuzz/test_fuzz_smoke.py::test_python_mutation_fuzz_of_the_engine")
PYTHONPATH="$stage" python -m pytest -q -p no:cacheprovider "${@:-${default[@]}}"
