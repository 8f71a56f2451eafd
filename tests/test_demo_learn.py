"""`akq demo --learn --fast` end to end: few-shot learning of unseen digits, reproducible from its files."""

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
    out_dir = tmp_path_factory.mktemp("demo_learn")
    env = {**os.environ, "PYTHONPATH": str(PYTHON_DIR), "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-m", "akq", "demo", "--learn", "--fast", "--out-dir", str(out_dir)],
                            capture_output=True, text=True, check=False, env=env, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {int(shots): float(accuracy) for shots, accuracy in
            re.findall(r"^\s+(\d+)\s+([0-9.]+) % \+-", result.stdout, re.MULTILINE)}
    return result.stdout, out_dir, rows


def test_new_digits_are_learned_from_a_few_examples(demo):
    table, out_dir, rows = demo
    assert list(rows) == [1, 5, 20], table
    backbone = float(re.search(r"held-out digits 0-4: ([0-9.]+) %", table).group(1))
    assert backbone > 85, table
    assert rows[1] > 40 and rows[20] > rows[1] + 10, table  # chance is 20 %
    assert (out_dir / "learning.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_curve_is_reproducible_from_the_saved_backbone(demo):
    from akq import demo_learn
    from akq.demo import load_digits

    _, out_dir, rows = demo
    images, labels = load_digits(seed=0)
    backbone = akq.load_model(out_dir / "backbone_0to4.akq")
    train, test = np.arange(4000), np.arange(4000, 5000)
    new_train, new_test = train[labels[train] >= 5], test[labels[test] >= 5]
    runs = [demo_learn.few_shot(backbone, images, labels, new_train, new_test, 1, draw)
            for draw in range(demo_learn.Settings.of(True).draws)]
    assert f"{100 * np.mean(runs):.2f}" == f"{rows[1]:.2f}"
