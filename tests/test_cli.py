"""The `akq` command through `python -m akq` subprocesses: each subcommand, its errors and exit codes.

Subprocesses that import TensorFlow are slow, so the Keras side (quantize, convert) runs a few times on
tiny models; info/run/bench work on a hand-built .akq file and must not import TensorFlow at all.
"""

import os
import subprocess
import sys
from pathlib import Path

import akq
import numpy as np
import pytest

PYTHON_DIR = Path(akq.__file__).resolve().parents[1]  # the akq under test: source tree or site-packages


def akq_command(*args, cwd=None, timeout=600, tf_log_level="3"):
    env = {**os.environ, "PYTHONPATH": str(PYTHON_DIR), "TF_CPP_MIN_LOG_LEVEL": tf_log_level}
    if tf_log_level is None:
        del env["TF_CPP_MIN_LOG_LEVEL"]
    return subprocess.run([sys.executable, "-m", "akq", *map(str, args)], capture_output=True, text=True,
                          check=False, env=env, cwd=cwd, timeout=timeout)


def assert_user_error(result, *fragments):
    """Exit code 1 and one line `akq: error: ...` on stderr (progress bars aside), no traceback."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("akq: error:")]
    assert len(errors) == 1, result.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


# -- a hand-built integer model for the engine-only commands ---------------------------------------
@pytest.fixture(scope="module")
def integer_model():
    rng = np.random.default_rng(0)
    model = akq.Model([
        akq.InputConvolutional((8, 8, 1), 3, 4, name="conv", weights_bits=8, act_bits=4),
        akq.FullyConnected(3, name="fc", weights_bits=4, activation=False),
    ])
    conv, fc = model.layers
    conv.set_variable("weights", rng.integers(-127, 128, (3, 3, 1, 4)).astype(np.int8))
    conv.set_variable("threshold", rng.integers(0, 20000, 4).astype(np.int32))
    conv.set_variable("act_step", np.full(4, 600.0, np.float32))
    fc.set_variable("weights", rng.integers(-7, 8, (1, 1, 256, 3)).astype(np.int8))
    fc.set_variable("act_step", np.ones(3, np.float32))
    return model


@pytest.fixture(scope="module")
def files(tmp_path_factory, integer_model):
    directory = tmp_path_factory.mktemp("cli")
    integer_model.save(directory / "model.akq")
    rng = np.random.default_rng(1)
    np.save(directory / "x.npy", rng.integers(0, 256, (300, 8, 8, 1), dtype=np.uint8))
    np.save(directory / "y.npy", rng.integers(0, 3, 300))
    np.save(directory / "x_float.npy", rng.uniform(0, 1, (4, 8, 8, 1)))
    return directory


# -- usage and help ----------------------------------------------------------------------------------
@pytest.mark.parametrize("command", [[], ["demo"], ["quantize"], ["convert"], ["export"], ["info"], ["run"], ["bench"],
                                     ["sweep"]])
def test_help_of_every_command(command):
    result = akq_command(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: akq")
    assert "--debug" in result.stdout


@pytest.mark.parametrize("arguments", [[], ["frobnicate"], ["run", "model.akq"], ["convert"],
                                       ["bench", "m.akq", "--repeat", "0"], ["quantize", "m.keras", "-wq", "four"]])
def test_bad_usage_exits_with_2(arguments):
    result = akq_command(*arguments)
    assert result.returncode == 2
    assert "usage: akq" in result.stderr and "Traceback" not in result.stderr


def test_version():
    result = akq_command("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"akq {akq.__version__}"


# -- engine-only commands --------------------------------------------------------------------------
def test_engine_commands_do_not_import_tensorflow(files):
    model, inputs = files / "model.akq", files / "x.npy"
    script = "\n".join([
        "import sys",
        "from akq.cli import main",
        f"assert main(['info', r'{model}', '-q']) == 0",
        f"assert main(['run', r'{model}', '--input', r'{inputs}', '-q']) == 0",
        f"assert main(['bench', r'{model}', '--repeat', '1', '-q']) == 0",
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules",
    ])
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False,
                            env={**os.environ, "PYTHONPATH": str(PYTHON_DIR)})
    assert result.returncode == 0, result.stderr


def test_run_predicts_counts_events_and_scores(files, integer_model):
    result = akq_command("run", files / "model.akq", "--input", files / "x.npy", "--labels", files / "y.npy",
                         "--batch-size", 64, "-o", files / "out.npy")
    assert result.returncode == 0, result.stderr
    x, y = np.load(files / "x.npy"), np.load(files / "y.npy")
    expected = integer_model.predict(x)
    outputs = np.load(files / "out.npy")
    np.testing.assert_array_equal(outputs, expected)  # batches concatenate to the whole-batch result
    accuracy = 100 * np.mean(expected.reshape(300, -1).argmax(axis=1) == y)
    assert f"accuracy: {accuracy:.2f} %" in result.stdout
    integer_model.forward(x)
    for layer in integer_model.statistics.layers:  # statistics summed over the 5 batches
        row = next(line.split() for line in result.stdout.splitlines() if line.startswith(layer.name + " "))
        assert [int(v) for v in row[1:3]] == [layer.samples, layer.input_size]
        assert int(row[3]) == layer.input_events and int(row[6]) == layer.synaptic_ops


def test_run_errors(files):
    assert_user_error(akq_command("run", files / "missing.akq", "--input", files / "x.npy"), "missing.akq", "no such file")
    assert_user_error(akq_command("run", files / "model.akq", "--input", files / "x_float.npy"), "uint8")
    np.save(files / "y4.npy", np.zeros(4, np.int64))
    assert_user_error(akq_command("run", files / "model.akq", "--input", files / "x.npy", "--labels",
                                  files / "y4.npy"), "--labels", "labels has 4 values for 300 inputs")
    (files / "garbage.akq").write_bytes(b"not a model at all")
    assert_user_error(akq_command("run", files / "garbage.akq", "--input", files / "x.npy"), "garbage.akq")
    (files / "garbage.npy").write_bytes(b"nope")
    assert_user_error(akq_command("run", files / "model.akq", "--input", files / "garbage.npy"), "--input")


def test_run_and_bench_refuse_what_is_not_a_batch_before_printing_anything(files):
    np.save(files / "scalar.npy", np.uint8(3))
    np.save(files / "empty.npy", np.zeros((0, 8, 8, 1), np.uint8))
    np.savez(files / "both.npz", x=np.zeros((2, 8, 8, 1), np.uint8), y=np.zeros(2, np.int64))
    np.save(files / "one_hot.npy", np.eye(3, dtype=np.int64)[np.zeros(300, int)])
    np.save(files / "y_float.npy", np.zeros(300, np.float32))
    cases = [("--input", "scalar.npy", "a single value of shape ()"),
             ("--input", "empty.npy", "an empty array of shape (0, 8, 8, 1)"),
             ("--input", "both.npz", "an .npz archive"),
             ("--labels", "one_hot.npy", "shape (N,)"), ("--labels", "y_float.npy", "must be integer")]
    for argument, name, fragment in cases:
        arguments = ["--input", files / (name if argument == "--input" else "x.npy")]
        if argument == "--labels":
            arguments += ["--labels", files / name]
        result = akq_command("run", files / "model.akq", *arguments)
        assert_user_error(result, f"{argument} {files / name}", fragment)
        assert result.stdout == ""
        if argument == "--input":
            assert_user_error(akq_command("bench", files / "model.akq", *arguments, "--repeat", 1), fragment)


def test_info_refuses_what_is_not_a_regular_file(tmp_path):
    os.mkfifo(tmp_path / "fifo.akq")
    for path in (tmp_path / "fifo.akq", "/dev/zero", tmp_path):
        assert_user_error(akq_command("info", path), str(path), "not a regular file")


def test_run_writes_the_output_where_it_says(files, integer_model, tmp_path):
    result = akq_command("run", files / "model.akq", "--input", files / "x.npy", "-o", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert f"wrote {tmp_path / 'out'}" in result.stdout and [p.name for p in tmp_path.iterdir()] == ["out"]
    np.testing.assert_array_equal(np.load(tmp_path / "out"), integer_model.predict(np.load(files / "x.npy")))


def test_debug_shows_the_traceback(files):
    result = akq_command("run", files / "model.akq", "--input", files / "x_float.npy", "--debug")
    assert result.returncode == 1 and "Traceback" in result.stderr and "InputError" in result.stderr


def test_info_shows_summary_mapping_check_and_performance(files):
    result = akq_command("info", files / "model.akq")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "conv (InputConv.)" in out and "fc (Fully.)" in out
    assert "Mapping on the virtual AKD1000" in out and "HRC" in out and "FNP3" in out
    assert "Hardware check: every layer fits the AKD1000" in out
    assert "frames/s" in out and "mJ" in out
    assert "Mapping" not in akq_command("info", files / "model.akq", "--no-map").stdout


def test_info_reports_hardware_problems(tmp_path):
    model = akq.Model([akq.InputData((8, 8, 4)),  # 8-bit weights do not fit a CNP
                       akq.Convolutional(3, 4, name="wide", weights_bits=8, activation=False)])
    model.get_layer("wide").set_variable("act_step", np.ones(4, np.float32))
    model.save(tmp_path / "wide.akq")
    result = akq_command("info", tmp_path / "wide.akq")
    assert result.returncode == 0, result.stderr
    assert "problem" in result.stdout and "'wide'" in result.stdout and "software" in result.stdout


def test_bench_times_the_engine_and_estimates_the_chip(files):
    result = akq_command("bench", files / "model.akq", "--repeat", 2, "--batch-size", 32, "--threads", 1)
    assert result.returncode == 0, result.stderr
    assert "akq engine on this CPU (1 threads), batch of 32, best of 2" in result.stdout
    assert "ms/frame" in result.stdout and "frames/s" in result.stdout and "mJ" in result.stdout
    from akq import _core

    assert f"kernels: {_core.best_simd_level()} (this CPU has scalar" in result.stdout  # the family that ran


# -- Keras-side commands ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def keras_files(tmp_path_factory):
    import keras

    L = keras.layers
    directory = tmp_path_factory.mktemp("keras")
    keras.utils.set_random_seed(0)
    float_model = keras.Sequential([keras.Input((8, 8, 1)), L.Conv2D(4, 3, padding="same", name="conv"),
                                    L.BatchNormalization(name="bn"), L.ReLU(6.0, name="relu"),
                                    L.Flatten(), L.Dense(3, name="fc")], name="tiny")
    float_model.save(directory / "tiny.keras")
    fused = keras.Sequential([keras.Input((4,)), L.Dense(3, activation="relu", name="fused")], name="fused")
    fused.save(directory / "fused.keras")
    return directory


def test_quantize_then_convert(keras_files):
    import akq.quantization_layers
    import keras

    result = akq_command("quantize", keras_files / "tiny.keras", "-wq", 4, "-aq", 4, "-iq", 8,
                         "-o", keras_files / "tiny_q.keras")
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout and "8-bit weights" in result.stdout
    quantized = keras.models.load_model(keras_files / "tiny_q.keras")
    expected = akq.quantize(keras.models.load_model(keras_files / "tiny.keras"), 4, 4, 8)
    assert [type(layer) for layer in quantized.layers] == [type(layer) for layer in expected.layers]
    for a, b in zip(quantized.get_weights(), expected.get_weights()):
        np.testing.assert_array_equal(a, b)

    result = akq_command("convert", keras_files / "tiny_q.keras", "--input-scaling", 255, 0,
                         "-o", keras_files / "tiny.akq", "--verbose")
    assert result.returncode == 0, result.stderr
    assert "conv" in result.stdout and "InputConvolutional" in result.stdout  # the conversion report
    converted = akq.load_model(keras_files / "tiny.akq")
    reference = akq.convert(quantized, input_scaling=(255, 0))
    x = np.random.default_rng(0).integers(0, 256, (16, 8, 8, 1), dtype=np.uint8)
    np.testing.assert_array_equal(converted.predict(x), reference.predict(x))


def test_convert_several_models_in_parallel_reports_each_failure(keras_files, tmp_path):
    import shutil

    if not (keras_files / "tiny_q.keras").exists():
        pytest.fail("test_quantize_then_convert must run first (it writes tiny_q.keras)")
    shutil.copy(keras_files / "tiny_q.keras", tmp_path / "second.keras")
    result = akq_command("convert", keras_files / "tiny_q.keras", tmp_path / "second.keras",
                         keras_files / "tiny.keras", "--input-scaling", 255, 0, "-o", tmp_path / "out", "-j", 2)
    assert result.returncode == 1
    assert (tmp_path / "out" / "tiny_q.akq").is_file() and (tmp_path / "out" / "second.akq").is_file()
    assert not (tmp_path / "out" / "tiny.akq").exists()
    assert "tiny.keras: first layer 'conv'" in result.stderr  # a float model: named, with the rule
    assert "1 of 3 models failed to convert" in result.stderr
    a, b = (akq.load_model(tmp_path / "out" / name) for name in ("tiny_q.akq", "second.akq"))
    assert a.to_bytes() == b.to_bytes()


def test_keras_side_errors(keras_files, tmp_path):
    assert_user_error(akq_command("quantize", tmp_path / "none.keras"), "none.keras: no such file")
    (tmp_path / "model.h5").write_bytes(b"")
    assert_user_error(akq_command("quantize", tmp_path / "model.h5"), "model.h5", "not a readable HDF5 file")
    (tmp_path / "model.onnx").write_bytes(b"")
    assert_user_error(akq_command("quantize", tmp_path / "model.onnx"), "must end with .keras", ".h5")
    assert_user_error(akq_command("convert", keras_files / "tiny.keras", "-o", tmp_path / "x.onnx"),
                      "must end with .akq")
    assert_user_error(akq_command("quantize", keras_files / "tiny.keras", "-o", tmp_path / "q.h5"),
                      "must end with .keras")
    assert_user_error(akq_command("convert", keras_files / "tiny.keras", keras_files / "tiny.keras",
                                  "-o", tmp_path / "x.akq"), "give a directory")
    assert_user_error(akq_command("quantize", keras_files / "fused.keras"), "'fused'", "activation='relu'")


def test_convert_of_a_file_that_is_not_a_keras_archive(tmp_path):
    """One error line, no TensorFlow start-up logging even without TF_CPP_MIN_LOG_LEVEL, no 'File not found'."""
    (tmp_path / "notes.keras").write_text("not a model")
    result = akq_command("convert", tmp_path / "notes.keras", tf_log_level=None)
    assert_user_error(result, "notes.keras: not a Keras model file", "zip archive")
    assert len(result.stderr.splitlines()) == 1, result.stderr
    (tmp_path / "zipped.keras").write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip archive
    result = akq_command("convert", tmp_path / "zipped.keras", tf_log_level=None)
    assert_user_error(result, "zipped.keras: cannot load this Keras model")
    assert len(result.stderr.splitlines()) == 1, result.stderr


def test_demo_refuses_an_output_directory_that_is_a_file(tmp_path):
    (tmp_path / "taken").write_text("a file, not a directory")
    assert_user_error(akq_command("demo", "--fast", "--out-dir", tmp_path / "taken"), "taken", "not a directory")
