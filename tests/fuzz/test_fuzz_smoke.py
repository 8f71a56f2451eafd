"""Fuzz smoke runs (about a minute in all): the Python mutation loop always, libFuzzer when clang has it.

Longer runs: scripts/fuzz.sh SECONDS (libFuzzer) or tests/fuzz/mutate.py ITERATIONS; docs/fuzzing.md.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

import akq
import mutate

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


def _libfuzzer_available() -> bool:
    clang = shutil.which("clang++")
    if clang is None:
        return False
    probe = subprocess.run([clang, "-print-file-name=libclang_rt.fuzzer-x86_64.a"], capture_output=True, text=True)
    return Path(probe.stdout.strip()).is_file()


@pytest.mark.skipif(not _libfuzzer_available(),
                    reason="clang++/libFuzzer not installed (apt-get install clang libclang-rt-14-dev); "
                           "the Python mutation fuzz above covers the reader")
def test_libfuzzer_smoke_of_the_reader():
    result = subprocess.run([str(ROOT / "scripts" / "fuzz.sh"), "25"], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    runs = int(re.search(r"stat::number_of_executed_units: (\d+)", result.stderr).group(1))
    print(f"libFuzzer: {runs} runs")
    assert runs > 10_000
