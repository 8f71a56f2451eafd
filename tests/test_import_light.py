"""`import akq` and `akq.errors` stay light: no TensorFlow, no Keras (checked in a fresh interpreter)."""

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
