"""The C++ quantize kernels (akq._core) against docs/spec A.1 written with TensorFlow float32 ops.

The reference below is deliberately plain TensorFlow: tf.reduce_max(tf.abs), tf.round (half to even),
tf.clip_by_value, float32 products, exactly as the legacy quantizers compute them. The Max scale factors
and the int weights must agree bit for bit. (There is no C++ Std kernel: a std accumulated any other way
than TensorFlow's float32 reduce_std differs by a few ulp, so conversion keeps TensorFlow's.)
"""

import sys
import threading
import tracemalloc

import numpy as np
import pytest
import tensorflow as tf
from akq import _core
from akq.errors import QuantizationError
from akq.quantization_ops import MaxPerAxisQuantizer, MaxQuantizer

BITWIDTHS = range(2, 9)
# ranks 1-4; the last ones are big enough for the loops' four-row blocks, remainder rows and tail
SHAPES = [(37,), (13, 29), (3, 5, 17), (3, 3, 24, 40), (3, 3, 8, 1), (1, 1, 70, 3), (5, 5, 77, 61), (9000, 3)]


# ---------------------------------------------------------------- the TensorFlow reference (docs/spec A.1)

def tf_scale_factor(w, per_axis, bitwidth):
    kmax = 2 ** (bitwidth - 1) - 1
    r = tf.reduce_max(tf.abs(tf.constant(w)), axis=list(range(w.ndim - 1)) if per_axis else None)
    if per_axis:
        r = tf.clip_by_value(r, 1e-10, tf.float32.max)
    return tf.clip_by_value(kmax / r, 0.0, 1000.0).numpy()


def tf_ints(w, sf, bitwidth):
    """The reference's int weights for a given scale factor: its straight-through round's forward value."""
    kmax = 2 ** (bitwidth - 1) - 1
    x = tf.constant(w) * sf
    return tf.clip_by_value(x + (tf.round(x) - x), -kmax, kmax).numpy().astype(np.int8)


# ---------------------------------------------------------------- test kernels

def random_kernel(shape, rng):
    """Normal weights with channel scales from 1e-3 to 1e3 and a random mean."""
    scales = 10.0 ** rng.uniform(-3, 3, size=shape[-1])
    return (rng.normal(rng.uniform(-1, 1), 1.0, size=shape) * scales).astype(np.float32)


def with_zero_channel(w):
    w = w.copy()
    w[..., 0] = 0.0
    return w


def tie_kernel(shape, bitwidth, per_axis, rng):
    """A kernel whose max |w| is kmax / 2^e, so sf = 2^e exactly, and whose other values are
    (k + 0.5) / 2^e: every product w * sf but the max is an exact tie k + 0.5."""
    kmax = 2 ** (bitwidth - 1) - 1
    exps = rng.integers(-6, 7, size=shape[-1] if per_axis else 1)
    k = rng.integers(-kmax, kmax, size=shape)
    w = ((k + 0.5) / 2.0 ** exps).astype(np.float32)
    flat = w.reshape(-1, shape[-1])
    if per_axis:
        flat[0] = kmax / 2.0 ** exps
    else:
        flat[0, 0] = kmax / 2.0 ** exps[0]
    return w


def ties_for(sf, bitwidth, shape, rng):
    """Weights w with float32(w * sf) == k + 0.5 exactly, for an arbitrary per-channel sf."""
    kmax = 2 ** (bitwidth - 1) - 1
    sf = np.broadcast_to(np.asarray(sf, np.float32), shape[-1:])
    candidates = ((rng.integers(-kmax, kmax, size=(64,) + shape) + 0.5) / sf).astype(np.float32)
    is_tie = (candidates * sf) % 1 == 0.5
    # per position, the first candidate that is an exact tie (most positions have one)
    pick = np.argmax(is_tie, axis=0)
    w = np.take_along_axis(candidates, pick[None], axis=0)[0]
    return w, np.take_along_axis(is_tie, pick[None], axis=0)[0]


def bits(a):
    return np.asarray(a, np.float32).view(np.int32)


def kernels_under_test(rng):
    """(label, kernel) pairs: random kernels of ranks 1-4, zero channels, huge and tiny values."""
    for shape in SHAPES:
        w = random_kernel(shape, rng)
        yield f"random{shape}", w
        if shape[-1] > 1:
            yield f"zero-channel{shape}", with_zero_channel(w)
        yield f"tiny{shape}", (w / np.abs(w).max() * 1e-30).astype(np.float32)
    yield "all-zero", np.zeros((3, 3, 4, 6), np.float32)


# ---------------------------------------------------------------- Max: bit for bit

@pytest.mark.parametrize("per_axis", [False, True])
def test_max_quantizers_match_tensorflow_bit_for_bit(per_axis):
    rng = np.random.default_rng(10 + per_axis)
    huge = [(f"huge{s}", random_kernel(s, rng) * np.float32(1e27)) for s in SHAPES]
    compared = 0
    for label, w in [*kernels_under_test(rng), *huge]:
        for bitwidth in BITWIDTHS:
            sf = _core.scale_factor(w, per_axis, bitwidth)
            expected_sf = tf_scale_factor(w, per_axis, bitwidth)
            assert sf.dtype == np.float32 and sf.shape == expected_sf.shape, label
            assert np.array_equal(bits(sf), bits(expected_sf)), (label, bitwidth)
            assert np.array_equal(_core.quantize_int8(w, sf, bitwidth), tf_ints(w, expected_sf, bitwidth)), \
                (label, bitwidth)
            compared += w.size
    assert compared > 200_000


def test_zero_channels_and_all_zero_kernels_get_scale_factor_1000():
    w = with_zero_channel(random_kernel((3, 3, 4, 5), np.random.default_rng(0)))
    assert _core.scale_factor(w, True, 4)[0] == _core.SCALE_FACTOR_MAX == 1000.0
    assert _core.scale_factor(np.zeros_like(w), False, 4) == 1000.0


@pytest.mark.parametrize("per_axis", [False, True])
def test_exact_ties_round_half_to_even_like_tf_round(per_axis):
    rng = np.random.default_rng(20 + per_axis)
    ties = 0
    for shape in SHAPES:
        for bitwidth in BITWIDTHS:
            w = tie_kernel(shape, bitwidth, per_axis, rng)
            sf = _core.scale_factor(w, per_axis, bitwidth)
            assert np.all(np.log2(sf) % 1 == 0), "the construction must give power-of-two scale factors"
            ties += np.count_nonzero((w * sf) % 1 == 0.5)
            ints = tf_ints(w, tf_scale_factor(w, per_axis, bitwidth), bitwidth)
            assert np.array_equal(_core.quantize_int8(w, sf, bitwidth), ints), (shape, bitwidth)
    assert ties > 10_000


def test_ties_with_arbitrary_scale_factors():
    rng = np.random.default_rng(30)
    ties = 0
    for shape in SHAPES:
        for bitwidth in BITWIDTHS:
            sf = (rng.uniform(0.01, 1000, size=shape[-1])).astype(np.float32)
            w, is_tie = ties_for(sf, bitwidth, shape, rng)
            ties += np.count_nonzero(is_tie)
            assert np.array_equal(_core.quantize_int8(w, sf, bitwidth), tf_ints(w, sf, bitwidth)), (shape, bitwidth)
    assert ties > 5_000


@pytest.mark.parametrize("per_axis, quantizer", [(False, MaxQuantizer), (True, MaxPerAxisQuantizer)])
def test_kernels_match_the_keras_quantizers(per_axis, quantizer):
    """The same agreement against akq.quantization_ops itself: scale factors bit for bit, and int weights
    equal to rne(quantize(w) * sf), the integers conversion recovers from the Keras kernel (docs/spec A.1)."""
    rng = np.random.default_rng(90 + per_axis)
    for label, w in kernels_under_test(rng):
        for bitwidth in BITWIDTHS:
            keras_q = quantizer(bitwidth=bitwidth)
            keras_sf = np.asarray(keras_q.scale_factor(w))
            sf = _core.scale_factor(w, per_axis, bitwidth)
            assert sf.shape == keras_sf.shape and np.array_equal(bits(sf), bits(keras_sf)), label
            ints = np.round(np.asarray(keras_q.quantize(w)) * keras_sf).astype(np.int8)
            assert np.array_equal(_core.quantize_int8(w, sf, bitwidth), ints), (label, bitwidth)


# ---------------------------------------------------------------- arrays: no copies, fresh outputs

def test_outputs_are_fresh_arrays_and_inputs_are_not_copied():
    w = np.random.default_rng(60).normal(size=(1024, 4096)).astype(np.float32)  # 16 MiB
    sf = _core.scale_factor(w, True, 8)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        out = _core.quantize_int8(w, sf, 8)
        peak = tracemalloc.get_traced_memory()[1]
        assert out.shape == w.shape and out.flags.c_contiguous and out.flags.owndata
        assert not np.shares_memory(out, w)
        assert peak < w.size + w.nbytes // 4, f"quantize_int8 allocated {peak} bytes"
        del out
        tracemalloc.reset_peak()
        _core.scale_factor(w, True, 8)
        assert tracemalloc.get_traced_memory()[1] < w.nbytes // 4
    finally:
        tracemalloc.stop()


def test_kernels_release_the_gil():
    """With a huge switch interval a thread keeps the GIL until it blocks or releases it, so the main
    thread can run while a worker is inside a kernel only if the binding released the GIL."""
    w = np.ones((2048, 4096), np.float32)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(100.0)
    try:
        for call in (lambda: _core.quantize_int8(w, 1.0, 8), lambda: _core.scale_factor(w, True, 8)):
            overlapped = False
            for _ in range(3):  # the main thread may wake up late on a loaded machine: try again
                started, done = threading.Event(), threading.Event()

                def work(call=call, started=started, done=done):
                    started.set()
                    call()
                    done.set()

                worker = threading.Thread(target=work)
                worker.start()
                started.wait()
                overlapped = not done.is_set()
                worker.join()
                if overlapped:
                    break
            assert overlapped
    finally:
        sys.setswitchinterval(interval)


def test_non_contiguous_kernels_give_the_same_results():
    w = random_kernel((3, 3, 16, 32), np.random.default_rng(70))
    strided = np.asfortranarray(w)
    sf = _core.scale_factor(w, True, 4)
    assert np.array_equal(_core.scale_factor(strided, True, 4), sf)
    assert np.array_equal(_core.quantize_int8(strided, sf, 4), _core.quantize_int8(w, sf, 4))


def test_scalar_scale_factors():
    w = random_kernel((5, 6), np.random.default_rng(80))
    sf = _core.scale_factor(w, False, 4)
    assert sf.shape == ()
    expected = _core.quantize_int8(w, np.full(6, sf), 4)
    for scalar in (sf, float(sf), sf.reshape(1)):
        assert np.array_equal(_core.quantize_int8(w, scalar, 4), expected)


# ---------------------------------------------------------------- bad input

W = np.ones((3, 3, 2, 4), np.float32)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: _core.quantize_int8(W.astype(np.float64), 1.0, 4), "float32"),
        (lambda: _core.quantize_int8([[1.0, 2.0]], 1.0, 4), "float32"),
        (lambda: _core.scale_factor(W.astype(np.int8), False, 4), "float32"),
        (lambda: _core.quantize_int8(W, np.ones(3, np.float32), 4), "one per output channel (4"),
        (lambda: _core.quantize_int8(W, np.ones((2, 2), np.float32), 4), "1-D"),
        (lambda: _core.quantize_int8(W, np.ones(4), 4), "float32"),
        (lambda: _core.quantize_int8(W, 1.0, 1), "bitwidth is 1"),
        (lambda: _core.quantize_int8(W, 1.0, 9), "between 2 and 8"),
        (lambda: _core.scale_factor(W, True, 1), "bitwidth"),
        (lambda: _core.scale_factor(np.zeros((0, 4), np.float32), True, 4), "empty"),
        (lambda: _core.scale_factor(np.float32(1.0), False, 4), "at least one axis"),
        (lambda: _core.quantize_int8(W, 0.0, 4), "positive and finite"),
        (lambda: _core.quantize_int8(W, np.float32([1, 1, np.nan, 1]), 4), "scale factor 2"),
        (lambda: _core.quantize_int8(np.float32([1.0, np.inf]), 1.0, 4), "NaN or infinity"),
        (lambda: _core.quantize_int8(np.float32([np.nan]), 1.0, 4), "NaN or infinity"),
        (lambda: _core.scale_factor(np.float32([[1.0, np.nan]]), True, 4), "NaN or infinity"),
        (lambda: _core.scale_factor(np.float32([[1.0, -np.inf]]), False, 4), "NaN or infinity"),
    ],
)
def test_bad_input_raises_quantization_error(call, message):
    with pytest.raises(QuantizationError) as info:
        call()
    assert message in str(info.value)
    assert str(info.value).split(":")[0] in ("scale_factor", "quantize_int8")
