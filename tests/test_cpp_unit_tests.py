"""The C++ unit tests (csrc/tests, ctest) run as part of the suite: built from this checkout's sources."""

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ctest_passes(tmp_path):
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    subprocess.run(["cmake", "-S", str(ROOT), "-B", str(tmp_path), *generator, "-DCMAKE_BUILD_TYPE=Release",
                    "-DAKQ_BUILD_TESTS=ON", "-DAKQ_BUILD_PYTHON=OFF"], check=True, capture_output=True)
    build = subprocess.run(["cmake", "--build", str(tmp_path), "-j2"], capture_output=True, text=True)
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    result = subprocess.run(["ctest", "--test-dir", str(tmp_path), "--output-on-failure"], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout[-4000:]
    assert "100% tests passed" in result.stdout and "out of 0" not in result.stdout
