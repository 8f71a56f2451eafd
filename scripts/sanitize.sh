#!/usr/bin/env bash
# Build the C++ tests and the _core extension with AddressSanitizer + UndefinedBehaviorSanitizer
# (CMake option AKQ_SANITIZE) and run them:
#   1. ctest, with LeakSanitizer on (the load/save loops of csrc/tests must not leak);
#   2. pytest against the sanitized extension (libasan preloaded into the uninstrumented Python;
#      leak detection off there, since CPython itself does not free everything at exit).
# The sanitized module goes to a staging copy of python/ (build/sanitize/python), never python/akq.
#   scripts/sanitize.sh [pytest arguments, default: tests]
set -euo pipefail
cd "$(dirname "$0")/.."
build=build/sanitize
stage=$PWD/$build/python
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAKQ_SANITIZE=ON -DAKQ_BUILD_TESTS=ON \
  -DAKQ_PYTHON_OUTPUT_DIR="$stage/akq" >/dev/null
cmake --build "$build" -j2
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 ctest --test-dir "$build" --output-on-failure

# Stage the Python sources next to the sanitized module.
(cd python && find akq -name '*.py' -print0 | xargs -0 -I{} install -D -m 644 {} "$stage/{}")
preload="$(${CXX:-g++} -print-file-name=libasan.so) $(${CXX:-g++} -print-file-name=libubsan.so)"
# Reports go to files as well: pytest's output capture loses what an aborting test printed.
reports=$PWD/$build/reports
rm -rf "$reports" && mkdir -p "$reports"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:max_allocation_size_mb=4096:log_path=$reports/asan
export UBSAN_OPTIONS=$UBSAN_OPTIONS:log_path=$reports/ubsan
LD_PRELOAD="$preload" PYTHONPATH="$stage" python -c "import akq._core as c; print('sanitized module:', c.__file__)"
status=0
LD_PRELOAD="$preload" PYTHONPATH="$stage" python -m pytest -q -p no:cacheprovider "${@:-tests}" || status=$?
if compgen -G "$reports/*" >/dev/null; then
  echo "sanitizer reports:" && cat "$reports"/*
  status=1
fi
exit $status
