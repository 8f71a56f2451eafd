"""Fuzz smoke runs of the .akq reader and the engine: the Python mutation loops always (about 30 s),
the libFuzzer harnesses (20 s each plus their build) when clang with libFuzzer is installed.

Longer runs: scripts/fuzz.sh SECONDS HARNESS, tests/fuzz/mutate.py reader|engine N; see docs/fuzzing.md.
"""

import re
import shutil
import subprocess
from pathlib import Path

import akq
import mutate
import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_seed_corpus_is_valid_and_canonical():
    seeds = mutate.seeds()
    assert len(seeds) >= 5
    for data in seeds:
        assert akq.Model.from_bytes(data).to_bytes() == data


def test_python_mutation_fuzz_of_the_reader():
    counts = mutate.run(100_000, seed=1)
    print(counts)
    assert counts["rejected"] > 50_000 and counts["accepted"] > 1_000  # both paths exercised


def test_python_mutation_fuzz_of_the_engine():
    counts = mutate.run_engine(60_000, seed=1)
    print(counts)
    assert counts["compared"] > 1_000 and counts.get("InputError", 0) > 100  # runs and typed refusals


def _libfuzzer_available() -> bool:
    clang = shutil.which("clang++")
    if clang is None:
        return False
    probe = subprocess.run([clang, "-print-file-name=libclang_rt.fuzzer-x86_64.a"], capture_output=True,
                           text=True, check=True)
    return Path(probe.stdout.strip()).is_file()


@pytest.mark.skipif(not _libfuzzer_available(),
                    reason="clang++/libFuzzer not installed (apt-get install clang libclang-rt-14-dev); "
                           "the Python mutation fuzz above covers the reader")
@pytest.mark.parametrize("harness", ["fuzz_model_file", "fuzz_engine"])
def test_libfuzzer_smoke(harness):
    result = subprocess.run([str(ROOT / "scripts" / "fuzz.sh"), "20", harness], cwd=ROOT, capture_output=True,
                            text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-4000:]
    runs = int(re.search(r"stat::number_of_executed_units: (\d+)", result.stderr).group(1))
    print(f"libFuzzer {harness}: {runs} runs")
    assert runs > 10_000
