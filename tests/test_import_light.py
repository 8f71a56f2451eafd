"""`import akq` and `akq.errors` stay light (no TensorFlow, no Keras), and the engine side works where
TensorFlow is not installed; the Keras side then says which extra to install (fresh interpreters)."""

import subprocess
import sys
from pathlib import Path

import akq

PYTHON_DIR = Path(akq.__file__).resolve().parents[1]  # the akq under test: source tree or site-packages

SCRIPT = """
import sys
import akq
import akq.errors
heavy = sorted(name for name in sys.modules if name.split('.')[0] in ('tensorflow', 'keras', 'tf_keras'))
assert not heavy, heavy[:10]
print('ok')
"""


def test_import_akq_does_not_import_tensorflow_or_keras():
    result = subprocess.run([sys.executable, "-c", SCRIPT], env={"PYTHONPATH": str(PYTHON_DIR)},
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]


# A sitecustomize that makes TensorFlow and Keras look not installed, as on a host with `pip install akq`.
NO_TENSORFLOW = """
import sys


class _NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "keras", "tf_keras"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _NotInstalled())
"""

ENGINE_WITHOUT_TENSORFLOW = """
import contextlib, io, sys
import numpy as np
import akq
from akq import cli
from akq.errors import MissingDependencyError

rng = np.random.default_rng(0)
model = akq.Model([akq.InputConvolutional((8, 8, 1), 3, 4, name="conv", weights_bits=8, act_bits=4),
                   akq.FullyConnected(3, name="fc", weights_bits=4, activation=False)])
conv, fc = model.layers
conv.set_variable("weights", rng.integers(-127, 128, (3, 3, 1, 4)).astype(np.int8))
conv.set_variable("threshold", rng.integers(0, 20000, 4).astype(np.int32))
conv.set_variable("act_step", np.full(4, 600.0, np.float32))
fc.set_variable("weights", rng.integers(-7, 8, (1, 1, 256, 3)).astype(np.int8))
fc.set_variable("act_step", np.ones(3, np.float32))
x = rng.integers(0, 256, (5, 8, 8, 1), dtype=np.uint8)
model.save("m.akq")
loaded = akq.load_model("m.akq")
assert np.array_equal(loaded.predict(x), model.predict(x))
loaded.map(akq.AKD1000())
assert akq.Performance(loaded).frames_per_s > 0
np.save("x.npy", x)
with contextlib.redirect_stdout(io.StringIO()):
    assert cli.main(["info", "m.akq"]) == 0 and cli.main(["run", "m.akq", "--input", "x.npy", "-q"]) == 0

for use in (lambda: akq.quantize, lambda: akq.quantization_layers, lambda: akq.convert(object())):
    try:
        use()
    except MissingDependencyError as error:
        assert "\\n" not in str(error) and "pip install 'akq[keras]'" in str(error), str(error)
    else:
        raise AssertionError("the Keras side ran without TensorFlow")
open("m.keras", "w").close()
for command in (["convert", "m.keras"], ["quantize", "m.keras"]):
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        assert cli.main(command) == 1
    assert stderr.getvalue().count("\\n") == 1 and "pip install 'akq[keras]'" in stderr.getvalue(), stderr.getvalue()
heavy = sorted(name for name in sys.modules if name.split('.')[0] in ('tensorflow', 'keras'))
assert not heavy, heavy[:10]
print('ok')
"""


def test_engine_files_device_and_cli_info_run_work_without_tensorflow(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(NO_TENSORFLOW)
    result = subprocess.run([sys.executable, "-c", ENGINE_WITHOUT_TENSORFLOW], cwd=tmp_path,
                            env={"PYTHONPATH": f"{tmp_path}:{PYTHON_DIR}"}, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-3000:]
