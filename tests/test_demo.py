"""`akq demo --fast` end to end, through the command, with its accuracy checks."""

import os
import re
import subprocess
import sys
from pathlib import Path

import akq
import numpy as np
import pytest

PYTHON_DIR = Path(akq.__file__).resolve().parents[1]  # the akq under test: source tree or site-packages


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "PYTHONPATH": str(PYTHON_DIR), "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-m", "akq", "demo", "--fast", "--out-dir", str(out_dir)],
                            capture_output=True, text=True, check=False, env=env, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout, out_dir


def _percent(table: str, label: str) -> float:
    match = re.search(re.escape(label) + r"\s+([0-9.]+) %", table)
    assert match, f"no '{label}' row in\n{table}"
    return float(match.group(1))


def test_demo_accuracies(demo):
    table, _ = demo
    float_accuracy = _percent(table, "Float Keras model, test accuracy")
    quantized = _percent(table, "Quantized Keras model after fine-tuning")
    engine = _percent(table, "Integer model in the akq engine")
    assert float_accuracy > 85 and quantized > 85, table
    assert abs(engine - quantized) <= 1.0, table


def test_demo_hardware_rows_and_plots(demo):
    table, out_dir = demo
    nps = int(re.search(r"AKD1000 neural processors used\s+(\d+)", table).group(1))
    assert nps >= 3  # conv_1, conv_2 and the classifier; conv_0 runs on the HRC
    assert re.search(r"Layers left in software\s+none", table)
    for label, unit in (("Estimated latency per frame", "ms"), ("Estimated throughput", "frames/s"),
                        ("Estimated energy per frame", "mJ")):
        value = re.search(re.escape(label) + r"\s+([0-9.,]+) " + unit, table)
        assert value and float(value.group(1).replace(",", "")) > 0, table
    for name in ("weights.png", "layers.png"):
        path = out_dir / name
        assert str(path) in table
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_demo_writes_models_that_reproduce_its_engine_accuracy(demo):
    table, out_dir = demo
    model = akq.load_model(out_dir / "digits_cnn.akq")
    from akq.demo import load_digits

    images, labels = load_digits(seed=0)
    accuracy = 100 * model.evaluate(images[4000:], labels[4000:])
    assert f"{accuracy:.2f} %" == f"{_percent(table, 'Integer model in the akq engine'):.2f} %"
    assert (out_dir / "digits_cnn_quantized.keras").is_file()


def test_demo_split_never_trains_on_test_digits():
    from akq.demo import Settings, load_digits

    images, labels = load_digits(seed=0)
    assert images.shape == (5000, 28, 28, 1) and images.dtype == np.uint8 and images.max() == 255
    assert np.bincount(labels).tolist() == [500] * 10
    assert max(Settings.of(False).train_images, Settings.of(True).train_images) <= 4000


def test_demo_prints_the_command_that_deploys_its_model(demo):
    table, out_dir = demo
    line = next(line for line in table.splitlines() if line.startswith("to deploy: akq export "))
    source, target = line.split()[4:6]
    assert Path(source) == out_dir / "digits_cnn.akq" and target.endswith(".fbz")
    akida = pytest.importorskip("akida", reason="the akida runtime is not installed (pip install 'akq[akida]')")
    from akq.cli import main

    assert main(["export", source, target]) == 0
    inputs = np.random.default_rng(0).integers(0, 256, (8, 28, 28, 1), dtype=np.uint8)
    np.testing.assert_array_equal(akida.Model(target).forward(inputs), akq.load_model(source).forward(inputs))
