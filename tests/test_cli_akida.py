"""The `akq` command with BrainChip's akida runtime: export to .fbz, info/run on a .fbz, convert a legacy .h5,
and the one-line install hint when akida is missing."""

import os
import subprocess
import sys

import numpy as np
import pytest

from test_cli import PYTHON_DIR, akq_command, assert_user_error, files, integer_model  # noqa: F401 (fixtures)
from test_legacy_h5 import LEGACY_DIR, load_case


@pytest.fixture
def no_akida(tmp_path):
    """A PYTHONPATH entry whose `akida` package fails to import, as if akida were not installed."""
    (tmp_path / "akida").mkdir()
    (tmp_path / "akida" / "__init__.py").write_text("raise ImportError('No module named akida')\n")
    return tmp_path


def test_export_then_info_and_run_on_the_fbz_without_tensorflow(files, integer_model):
    pytest.importorskip("akida", reason="the akida runtime is not installed (pip install 'akq[akida]')")
    fbz, inputs = files / "model.fbz", files / "x.npy"
    script = "\n".join([
        "import sys",
        "from akq.cli import main",
        f"assert main(['export', r'{files / 'model.akq'}', r'{fbz}']) == 0",
        f"assert main(['info', r'{fbz}', '-q']) == 0",
        f"assert main(['run', r'{fbz}', '--input', r'{inputs}', '-o', r'{files / 'out.npy'}', '-q']) == 0",
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules",
    ])
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False,
                            env={**os.environ, "PYTHONPATH": str(PYTHON_DIR)})
    assert result.returncode == 0, result.stderr
    assert "model.fbz: <akq.Model" in result.stdout and "Hardware check" in result.stdout
    np.testing.assert_array_equal(np.load(files / "out.npy"), integer_model.predict(np.load(inputs)))


def test_export_refuses_another_suffix_and_missing_akida_says_how_to_install(files, no_akida):
    assert_user_error(akq_command("export", files / "model.akq", files / "model.bin"), "must end with .fbz")
    env_path = f"{no_akida}{os.pathsep}{PYTHON_DIR}"
    for arguments in (["export", files / "model.akq", files / "x.fbz"], ["info", files / "model.akq.fbz"]):
        (files / "model.akq.fbz").write_bytes(b"")
        result = subprocess.run([sys.executable, "-m", "akq", *map(str, arguments)], capture_output=True, text=True,
                                check=False, env={**os.environ, "PYTHONPATH": env_path})
        assert_user_error(result, "pip install 'akq[akida]'")


def test_convert_takes_a_legacy_cnn2snn_checkpoint(tmp_path, capsys):
    import akq
    from akq.cli import main  # in this process: a subprocess would spend its time importing TensorFlow

    _, data, scaling = load_case("case_0015")
    target = tmp_path / "legacy.akq"
    source = LEGACY_DIR / "case_0015" / "model.h5"
    assert main(["convert", str(source), "-o", str(target), "--input-scaling", *map(str, scaling)]) == 0
    assert f"{source} -> {target}" in capsys.readouterr().out
    np.testing.assert_array_equal(akq.load_model(target).forward(data["inputs"]), data["akida_forward"])
