"""Reliability of the engine's public entry points (issue 7): integer extremes follow docs/spec C exactly on
every SIMD level, hostile inputs get typed errors, threads share one Model safely, loops do not leak.
"""

import os
import pickle
import select
import signal
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import akq
import engine_helpers
import numpy as np
import pytest
from akq.errors import EngineError, InputError, ModelFileError

simd_level = engine_helpers.simd_level  # fixture: the test runs on every SIMD level


def wrap32(v: int) -> int:
    return (v + 2**31) % 2**32 - 2**31


def clamp20(v: int) -> int:
    return max(-2**19, min(2**19 - 1, v))


def realistic_model(seed=0) -> akq.Model:
    """Every layer type, random in-range weights, thresholds that make the activations vary."""
    rng = np.random.default_rng(seed)
    model = akq.Model([
        akq.InputConvolutional((24, 24, 3), 3, 8, name="in", weights_bits=8, act_bits=4, padding_value=7,
                               pool_type=akq.PoolType.Max, pool_size=2),
        akq.Convolutional(3, 16, name="conv", weights_bits=4, act_bits=4),
        akq.SeparableConvolutional(3, 16, name="sep", weights_bits=4, act_bits=2, pool_type=akq.PoolType.Max,
                                   pool_size=2),
        akq.FullyConnected(10, name="fc", weights_bits=2, activation=False),
    ])
    scale = {"in": 20000, "conv": 300, "sep": 60, "fc": 10}
    for layer in model.layers:
        bits = layer.parameters.weights_bits
        high = 127 if bits == 8 else 2 ** (bits - 1) - 1
        for name in layer.variables:
            shape = layer.get_variable(name).shape
            if name.startswith("weights"):
                layer.set_variable(name, rng.integers(-high, high + 1, shape).astype(np.int8))
            elif name == "threshold":
                layer.set_variable(name, rng.integers(0, scale[layer.name], shape).astype(np.int32))
            else:
                layer.set_variable(name, rng.uniform(1, scale[layer.name] / 4, shape).astype(np.float32))
    return model


# -- integer extremes ---------------------------------------------------------------------------
def test_fully_connected_sum_beyond_int32_wraps_then_clamps(simd_level):
    """docs/spec C.2: the FC sum wraps in int32 before the 20-bit clamp (2^21 inputs of 15 x 127)."""
    model = akq.Model([akq.InputData((1024, 1024, 2), name="in"),
                       akq.FullyConnected(2, name="fc", weights_bits=8, activation=False)])
    weights = np.zeros((1, 1, 2**21, 2), np.int8)
    weights[0, 0, :, 0] = 127
    weights[0, 0, :2**20, 1] = 127  # half the inputs: 2.0e9, still below 2^31
    model.get_layer("fc").set_variable("weights", weights)
    out = model.forward(np.full((1, 1024, 1024, 2), 15, np.uint8))
    assert out.tolist() == [[[[clamp20(wrap32(15 * 127 * 2**21)), clamp20(15 * 127 * 2**20)]]]]
    assert wrap32(15 * 127 * 2**21) < 0  # the wrap is what makes the first output saturate low


def test_depthwise_sum_beyond_int32_wraps_on_every_simd_level(simd_level):
    """A 1101x1101 8-bit depthwise kernel sums past -2^31: two's-complement wrap, no undefined behaviour.

    Channel 0 goes through the AVX2 vector lanes, channel 8 through the scalar tail.
    """
    k = 1101
    model = akq.Model([akq.InputData((k, k, 9), name="in"),
                       akq.SeparableConvolutional(k, 2, name="sep", padding=akq.Padding.Valid, weights_bits=8,
                                                  activation=False)])
    sep = model.get_layer("sep")
    sep.set_variable("weights", np.full((k, k, 9, 1), -128, np.int8))
    pointwise = np.zeros((1, 1, 9, 2), np.int8)
    pointwise[0, 0, 0, 0] = pointwise[0, 0, 8, 1] = 1
    sep.set_variable("weights_pw", pointwise)
    out = model.forward(np.full((1, k, k, 9), 15, np.uint8))
    expected = wrap32(-128 * 15 * k * k)
    assert expected > 0 and out.tolist() == [[[[expected, expected]]]]


# -- hostile inputs at the public entry points -------------------------------------------------------
@pytest.fixture(scope="module")
def model():
    return realistic_model()


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(1).integers(0, 256, (16, 24, 24, 3), dtype=np.uint8)


@pytest.mark.parametrize("bad, match", [
    ([[1, 2, 3]], "numpy array of dtype uint8, got list"),
    (np.zeros((2, 24, 24, 3), np.float32), "dtype should be uint8, got float32"),
    (np.zeros((2, 24, 24, 3), np.int8), "dtype should be uint8, got int8"),
    (np.zeros((2, 24, 24, 3), np.uint16), "dtype should be uint8, got uint16"),
    (np.zeros((2, 24, 24, 3), bool), "dtype should be uint8, got bool"),
    (np.zeros((2, 24, 24, 3), object), "dtype should be uint8, got object"),
    (np.zeros((24, 24, 3), np.uint8), r"shape \(24, 24, 3\), the model expects \(N, 24, 24, 3\)"),
    (np.zeros((1, 2, 24, 24, 3), np.uint8), "the model expects"),
    (np.zeros((2, 24, 23, 3), np.uint8), "the model expects"),
    (np.zeros((2, 24, 24, 1), np.uint8), "the model expects"),
    (np.zeros((2, 1728), np.uint8), "the model expects"),
    (np.uint8(3), "numpy array"),
])
def test_bad_inputs_are_named(model, bad, match):
    for run in (model.forward, model.predict):
        with pytest.raises(InputError, match=match):
            run(bad)


@pytest.mark.parametrize("threads", [0, -1, True, 1.5, "2", 2**31, 2**40])
def test_bad_thread_counts(model, images, threads):
    with pytest.raises(InputError, match="threads must be a positive int"):
        model.forward(images, threads=threads)


def test_layouts_batches_and_thread_counts_do_not_change_results(model, images):
    expected = model.predict(images, threads=1)
    assert expected.dtype == np.float32 and expected.shape == (16, 1, 1, 10)
    assert len(np.unique(expected)) > 100  # a model that actually computes something
    strided = np.zeros((16, 48, 24, 3), np.uint8)
    strided[:, ::2] = images
    readonly = images.copy()
    readonly.flags.writeable = False
    for x in (np.asfortranarray(images), strided[:, ::2], readonly, images[::-1][::-1]):
        np.testing.assert_array_equal(model.predict(x), expected)
    for threads in (2, 3, 16, 10**6):
        np.testing.assert_array_equal(model.predict(images, threads=threads), expected)
    one_by_one = np.concatenate([model.predict(images[i:i + 1]) for i in range(16)])
    np.testing.assert_array_equal(one_by_one, expected)
    assert model.predict(images[:0]).shape == (0, 1, 1, 10)
    assert model.forward(images[:0]).shape == (0, 1, 1, 10)


def test_input_values_beyond_input_bits():
    model = akq.Model([akq.InputData((2, 2, 1), input_bits=2, name="in"), akq.FullyConnected(1, name="fc")])
    x = np.array([3, 3, 3, 4], np.uint8).reshape(1, 2, 2, 1)
    with pytest.raises(InputError, match=r"input value 4 .* input_bits=2 values in \[0, 3\]"):
        model.forward(x)
    assert model.forward(np.minimum(x, 3)).shape == (1, 1, 1, 1)


def test_predict_and_evaluate_misuse(model, images):
    fired = akq.Model([akq.InputData((2, 2, 1), name="in"), akq.FullyConnected(3, name="fc")])
    with pytest.raises(EngineError, match="'fc' has an activation"):
        fired.predict(np.zeros((1, 2, 2, 1), np.uint8))
    with pytest.raises(InputError, match="labels has 3 values for 16 inputs"):
        model.evaluate(images, np.zeros(3, np.int64))
    with pytest.raises(InputError, match="labels must be integer"):
        model.evaluate(images, np.zeros(16, np.float32))
    with pytest.raises(EngineError, match="no layers"):
        akq.Model().forward(images)


def test_evaluate_refuses_empty_batches_and_label_arrays_of_another_shape(model, images):
    with pytest.raises(InputError, match="empty batch"):
        model.evaluate(images[:0], np.zeros(0, np.int64))
    with pytest.raises(InputError, match=r"shape \(N,\).*got \(16, 3\).*argmax"):
        model.evaluate(images, np.zeros((16, 3), np.int64))
    labels = model.predict(images).reshape(16, -1).argmax(axis=1)
    assert model.evaluate(images, labels[:, None]) == model.evaluate(images, labels) == 1.0


def test_threads_beyond_the_system_limit_still_run(model, images):
    """A thread the system refuses (RLIMIT_NPROC) must not abort the process: the caller runs its share."""
    code = """
        import resource, numpy as np
        import akq
        from test_reliability import realistic_model
        model = realistic_model()
        x = np.random.default_rng(1).integers(0, 256, (300, 24, 24, 3), dtype=np.uint8)
        expected = model.predict(x, threads=1)
        big = akq.Model([akq.InputData((64, 64, 8), name="in"), akq.Convolutional(3, 32, name="c")])
        big.get_layer("c").set_variable("threshold", np.full(32, -1, np.int32))
        one = np.ones((1, 64, 64, 8), np.uint8)
        expected_big = big.forward(one, threads=1)  # 9.4M MACs: split over threads when threads > batch
        soft, hard = resource.getrlimit(resource.RLIMIT_NPROC)
        resource.setrlimit(resource.RLIMIT_NPROC, (1, hard))  # no new thread can start
        assert (model.predict(x, threads=64) == expected).all()
        assert (big.forward(one, threads=8) == expected_big).all() and expected_big.any()
        print("ok")
    """
    path = os.pathsep.join([str(Path(akq.__file__).parents[1]), str(Path(__file__).parent)])
    env = dict(os.environ, PYTHONPATH=path)
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0 and proc.stdout == "ok\n", proc.stderr[-3000:]


# -- one model, many threads -------------------------------------------------------------------------
def test_one_model_hammered_by_threads_matches_serial_use(images):
    model = realistic_model(seed=3)  # not compiled yet: the threads also race to compile it
    serial = realistic_model(seed=3)
    expected_predict = serial.predict(images, threads=1)

    def work(i):
        rows = slice(i % 4 * 4, i % 4 * 4 + 4)
        for _ in range(15):
            predicted = model.predict(images[rows], threads=1 + i % 2)
            np.testing.assert_array_equal(predicted, expected_predict[rows])
            np.testing.assert_array_equal(model.evaluate(images[rows], np.arange(4), threads=1),
                                          serial.evaluate(images[rows], np.arange(4), threads=1))
        return i

    with ThreadPoolExecutor(8) as pool:
        assert sorted(pool.map(work, range(16))) == list(range(16))
    assert model.statistics.layers[0].samples == 4  # each call's own batch, never a mix


def test_a_forked_child_runs_threads_of_its_own(model, images):
    """The engine keeps worker threads between calls; a child forked after they started has none of
    them and must start its own instead of waiting for the parent's."""
    expected = model.predict(images, threads=2)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.write(write, b"ok" if (model.predict(images, threads=2) == expected).all() else b"wrong")
        finally:
            os._exit(0)
    os.close(write)
    ready, _, _ = select.select([read], [], [], 30)
    answer = os.read(read, 8) if ready else b"hung"
    if not ready:
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    os.close(read)
    assert answer == b"ok"


# -- no leaks in load / predict / save loops -----------------------------------------------------------
def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif("libasan" in os.environ.get("LD_PRELOAD", ""),
                    reason="AddressSanitizer's quarantine keeps freed memory resident; under "
                           "scripts/sanitize.sh LeakSanitizer checks the C++ loops of csrc/tests/test_io.cpp")
def test_load_predict_save_loops_do_not_leak(tmp_path, images):
    """Every file and engine entry point in a loop; leaking one copy of the model or the batch per call
    would add well over 20 MB."""
    path = tmp_path / "m.akq"
    realistic_model().save(path)
    big = akq.Model([akq.InputData((16, 16, 8), name="in"),
                     akq.FullyConnected(100, name="fc", weights_bits=8)])
    big_bytes = big.to_bytes()  # 200 KB

    def cycle(i):
        model = akq.load_model(path)
        model.predict(images, threads=2)
        model.forward(images[:2])
        with pytest.raises(InputError):
            model.predict(images.astype(np.float32))
        pickle.loads(pickle.dumps(model)).predict(images[:1])
        akq.Model.from_bytes(big.to_bytes())
        with pytest.raises(ModelFileError):
            akq.Model.from_bytes(big_bytes[:-1])
        if i % 10 == 0:  # fsync makes saves slow
            model.save(path)

    for i in range(30):
        cycle(i)
    before = _rss_bytes()
    for i in range(300):
        cycle(i)
    assert _rss_bytes() - before < 20 * 2**20
