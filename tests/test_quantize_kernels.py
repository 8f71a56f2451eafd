"""The C++ quantize kernels (akq._core) against docs/spec A.1 written with TensorFlow float32 ops.

The reference below is deliberately plain TensorFlow: tf.reduce_max(tf.abs), tf.math.reduce_std,
tf.round (half to even), tf.clip_by_value, float32 products and divisions, exactly as the legacy
quantizers compute them. Max quantizers must agree bit for bit (scale factor, int and fake weights).

Std quantizers: akq accumulates the std in double and rounds it once to float32, while TensorFlow
reduces in float32 in its own order, so the scale factors may differ by a few ulp (docs/spec A.1 note)
and an int weight lying next to a .5 tie may differ by 1; see
test_std_quantizers_match_the_exact_std_and_tensorflow.
"""

import sys
import threading
import tracemalloc

import numpy as np
import pytest
import tensorflow as tf
from akq import _core
from akq.errors import QuantizationError
from akq.quantization_ops import MaxPerAxisQuantizer, MaxQuantizer, StdPerAxisQuantizer, StdWeightQuantizer

BITWIDTHS = range(2, 9)
# ranks 1-4; the last ones are big enough for the loops' four-row blocks, remainder rows and tail
SHAPES = [(37,), (13, 29), (3, 5, 17), (3, 3, 24, 40), (3, 3, 8, 1), (1, 1, 70, 3), (5, 5, 77, 61), (9000, 3)]


# ---------------------------------------------------------------- the TensorFlow reference (docs/spec A.1)

def tf_scale_factor(w, method, per_axis, bitwidth, threshold=3.0):
    kmax = 2 ** (bitwidth - 1) - 1
    axes = list(range(w.ndim - 1)) if per_axis else None
    w = tf.constant(w)
    if method == "max":
        r = tf.reduce_max(tf.abs(w), axis=axes)
        if per_axis:
            r = tf.clip_by_value(r, 1e-10, tf.float32.max)
    else:
        r = threshold * tf.math.reduce_std(w, axis=axes)
    return tf.clip_by_value(kmax / r, 0.0, 1000.0).numpy()


def tf_quantize(w, sf, bitwidth):
    """(int weights, fake-quantized weights) of the reference for a given scale factor.

    The rounding is the forward value of the reference's straight-through round, x + (round(x) - x):
    tf.round(x) exactly, except that its zeros are +0 (tf.round(-0.3) alone is -0).
    """
    kmax = 2 ** (bitwidth - 1) - 1
    x = tf.constant(w) * sf
    q = tf.clip_by_value(x + (tf.round(x) - x), -kmax, kmax)
    return q.numpy().astype(np.int8), (q / sf).numpy()


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


def ulp_distance(a, b):
    return np.abs(bits(a).astype(np.int64) - bits(b).astype(np.int64))


def std_ulp_bound(w, per_axis):
    """How far (ulp) TF's float32 Std scale factor may be from the exact one: a float32 sum's error."""
    return 4 + np.sqrt(w.size // w.shape[-1] if per_axis else w.size)


def assert_ints_differ_only_next_to_ties(ints, tf_ints, w, sf, tf_sf):
    """Int weights from two scale factors a few ulp apart may differ by 1 only where w * sf lies
    within that difference of a .5 tie. Returns the number of such weights."""
    differ = ints != tf_ints
    assert np.all(np.abs(ints[differ].astype(np.int32) - tf_ints[differ]) == 1)
    w64, sf64, tf_sf64 = (np.asarray(a, np.float64) for a in (w, sf, tf_sf))
    x = w64 * tf_sf64
    distance_to_tie = np.abs(np.abs(x - np.floor(x)) - 0.5)
    margin = np.abs(w64 * (sf64 - tf_sf64)) + 2.0 ** -22 * np.abs(x)
    assert np.all(distance_to_tie[differ] <= margin[differ])
    return np.count_nonzero(differ)


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
            sf = _core.scale_factor(w, "max", per_axis, bitwidth)
            expected_sf = tf_scale_factor(w, "max", per_axis, bitwidth)
            assert sf.dtype == np.float32 and sf.shape == expected_sf.shape, label
            assert np.array_equal(bits(sf), bits(expected_sf)), (label, bitwidth)
            ints, fakes = tf_quantize(w, expected_sf, bitwidth)
            assert np.array_equal(_core.quantize_int8(w, sf, bitwidth), ints), (label, bitwidth)
            assert np.array_equal(bits(_core.fake_quantize(w, sf, bitwidth)), bits(fakes)), (label, bitwidth)
            compared += w.size
    assert compared > 200_000


def test_zero_channels_and_all_zero_kernels_get_scale_factor_1000():
    w = with_zero_channel(random_kernel((3, 3, 4, 5), np.random.default_rng(0)))
    for method in ("max", "std"):
        assert _core.scale_factor(w, method, True, 4)[0] == 1000.0
        assert _core.scale_factor(np.zeros_like(w), method, False, 4) == 1000.0


@pytest.mark.parametrize("per_axis", [False, True])
def test_exact_ties_round_half_to_even_like_tf_round(per_axis):
    rng = np.random.default_rng(20 + per_axis)
    ties = 0
    for shape in SHAPES:
        for bitwidth in BITWIDTHS:
            w = tie_kernel(shape, bitwidth, per_axis, rng)
            sf = _core.scale_factor(w, "max", per_axis, bitwidth)
            assert np.all(np.log2(sf) % 1 == 0), "the construction must give power-of-two scale factors"
            ties += np.count_nonzero((w * sf) % 1 == 0.5)
            ints, fakes = tf_quantize(w, tf_scale_factor(w, "max", per_axis, bitwidth), bitwidth)
            assert np.array_equal(_core.quantize_int8(w, sf, bitwidth), ints), (shape, bitwidth)
            assert np.array_equal(bits(_core.fake_quantize(w, sf, bitwidth)), bits(fakes)), (shape, bitwidth)
    assert ties > 10_000


def test_ties_with_arbitrary_scale_factors():
    rng = np.random.default_rng(30)
    ties = 0
    for shape in SHAPES:
        for bitwidth in BITWIDTHS:
            sf = (rng.uniform(0.01, 1000, size=shape[-1])).astype(np.float32)
            w, is_tie = ties_for(sf, bitwidth, shape, rng)
            ties += np.count_nonzero(is_tie)
            ints, fakes = tf_quantize(w, sf, bitwidth)
            assert np.array_equal(_core.quantize_int8(w, sf, bitwidth), ints), (shape, bitwidth)
            assert np.array_equal(bits(_core.fake_quantize(w, sf, bitwidth)), bits(fakes)), (shape, bitwidth)
    assert ties > 5_000


# ---------------------------------------------------------------- Std: accurate std, TF within a few ulp

def float64_std_scale_factor(w, per_axis, bitwidth, threshold):
    """docs/spec A.1 with the exact std (numpy float64, rounded once to float32) instead of TF's."""
    axes = tuple(range(w.ndim - 1)) if per_axis else None
    std = np.std(w.astype(np.float64), axis=axes).astype(np.float32)
    r = np.clip(np.float32(threshold) * std, np.float32(1e-10), np.finfo(np.float32).max)
    return np.clip(np.float32(2 ** (bitwidth - 1) - 1) / r, 0, 1000).astype(np.float32)


@pytest.mark.parametrize("per_axis", [False, True])
def test_std_quantizers_match_the_exact_std_and_tensorflow(per_axis):
    """akq's std is the exact one rounded to float32, so its sf equals a float64-std reference bit for
    bit. TensorFlow's reduce_std accumulates in float32 (docs/spec A.1 note): per tensor its sf is within
    a few ulp (measured <= 3); per axis its error grows like a float32 sum with the number n of values
    per channel (measured up to 23 ulp for n = 9000), hence the bound 4 + sqrt(n) ulp. The int weights then differ
    from TensorFlow's only by 1 and only where w * sf lies within the sf difference of a .5 tie
    (a handful in a million). The kernels themselves are bit-exact for any given sf."""
    rng = np.random.default_rng(40 + per_axis)
    scale_factors = identical = weights = near_tie = 0
    for label, w in kernels_under_test(rng):
        for bitwidth in BITWIDTHS:
            threshold = float(rng.choice([1.0, 2.5, 3.0]))
            sf = _core.scale_factor(w, "std", per_axis, bitwidth, threshold)
            assert np.array_equal(bits(sf), bits(float64_std_scale_factor(w, per_axis, bitwidth, threshold)))
            tf_sf = tf_scale_factor(w, "std", per_axis, bitwidth, threshold)
            assert sf.dtype == np.float32 and sf.shape == tf_sf.shape, label
            assert np.all(ulp_distance(sf, tf_sf) <= std_ulp_bound(w, per_axis)), (label, bitwidth, sf, tf_sf)
            scale_factors += sf.size
            identical += np.count_nonzero(sf == tf_sf)
            ints, fakes = tf_quantize(w, tf_sf, bitwidth)
            assert np.array_equal(_core.quantize_int8(w, tf_sf, bitwidth), ints), (label, bitwidth)
            assert np.array_equal(bits(_core.fake_quantize(w, tf_sf, bitwidth)), bits(fakes)), label
            near_tie += assert_ints_differ_only_next_to_ties(_core.quantize_int8(w, sf, bitwidth), ints, w, sf, tf_sf)
            weights += w.size
    assert scale_factors > 100 and identical > 0.7 * scale_factors
    assert near_tie < 1e-4 * weights


@pytest.mark.parametrize(
    "method, per_axis, quantizer",
    [("max", False, MaxQuantizer), ("max", True, MaxPerAxisQuantizer),
     ("std", False, StdWeightQuantizer), ("std", True, StdPerAxisQuantizer)],
)
def test_kernels_match_the_keras_quantizers(method, per_axis, quantizer):
    """The same agreement against akq.quantization_ops itself: Max scale factors bit for bit, Std ones
    within 4 + sqrt(n) ulp (see above); fake weights bit for bit for the
    quantizer's own sf; int weights for that sf equal to rne(quantize(w) * sf), the integers
    conversion recovers from the Keras kernel (docs/spec A.1), and for akq's sf equal except next to ties."""
    rng = np.random.default_rng(90 + 2 * per_axis + (method == "std"))
    for label, w in kernels_under_test(rng):
        for bitwidth in BITWIDTHS:
            threshold = float(rng.choice([1.0, 2.5, 3.0]))
            keras_q = quantizer(bitwidth=bitwidth) if method == "max" else quantizer(threshold, bitwidth)
            keras_sf = np.asarray(keras_q.scale_factor(w))
            keras_wq = np.asarray(keras_q.quantize(w))
            sf = _core.scale_factor(w, method, per_axis, bitwidth, threshold)
            assert sf.shape == keras_sf.shape, label
            assert np.all(ulp_distance(sf, keras_sf) <= (0 if method == "max" else std_ulp_bound(w, per_axis))), label
            assert np.array_equal(bits(_core.fake_quantize(w, keras_sf, bitwidth)), bits(keras_wq)), label
            ints = np.round(keras_wq * keras_sf).astype(np.int8)
            assert np.array_equal(_core.quantize_int8(w, keras_sf, bitwidth), ints), (label, bitwidth)
            assert_ints_differ_only_next_to_ties(_core.quantize_int8(w, sf, bitwidth), ints, w, sf, keras_sf)


def test_std_of_huge_weights_is_accurate_where_tensorflow_overflows():
    """TF's float32 reduce_std squares 1e30 into infinity (sf 0, NaN fake weights); akq's double
    accumulation gives the float64 std rounded to float32."""
    rng = np.random.default_rng(50)
    w = random_kernel((3, 3, 16, 8), rng) * np.float32(1e30)
    std = np.float32(np.std(w.astype(np.float64)))
    assert _core.scale_factor(w, "std", False, 8, 3.0) == np.float32(127) / (np.float32(3.0) * std)
    per_axis = np.std(w.astype(np.float64), axis=(0, 1, 2)).astype(np.float32)
    assert np.array_equal(_core.scale_factor(w, "std", True, 8, 3.0), np.float32(127) / (np.float32(3.0) * per_axis))
    assert tf_scale_factor(w, "std", False, 8) == 0.0


# ---------------------------------------------------------------- arrays: no copies, fresh outputs

def test_outputs_are_fresh_arrays_and_inputs_are_not_copied():
    w = np.random.default_rng(60).normal(size=(1024, 4096)).astype(np.float32)  # 16 MiB
    sf = _core.scale_factor(w, "max", True, 8)
    tracemalloc.start()
    try:
        for fn, out_bytes in ((_core.quantize_int8, w.size), (_core.fake_quantize, w.nbytes)):
            tracemalloc.reset_peak()
            out = fn(w, sf, 8)
            peak = tracemalloc.get_traced_memory()[1]
            assert out.shape == w.shape and out.flags.c_contiguous and out.flags.owndata
            assert not np.shares_memory(out, w)
            assert peak < out_bytes + w.nbytes // 4, f"{fn.__name__} allocated {peak} bytes"
            del out
        tracemalloc.reset_peak()
        _core.scale_factor(w, "std", True, 8)
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
        for call in (lambda: _core.fake_quantize(w, 1.0, 8), lambda: _core.scale_factor(w, "std", True, 8)):
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
    for method in ("max", "std"):
        sf = _core.scale_factor(w, method, True, 4)
        assert np.array_equal(_core.scale_factor(strided, method, True, 4), sf)
        assert np.array_equal(_core.quantize_int8(strided, sf, 4), _core.quantize_int8(w, sf, 4))


def test_scalar_scale_factors():
    w = random_kernel((5, 6), np.random.default_rng(80))
    sf = _core.scale_factor(w, "max", False, 4)
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
        (lambda: _core.fake_quantize([[1.0, 2.0]], 1.0, 4), "float32"),
        (lambda: _core.scale_factor(W.astype(np.int8), "max", False, 4), "float32"),
        (lambda: _core.quantize_int8(W, np.ones(3, np.float32), 4), "one per output channel (4"),
        (lambda: _core.fake_quantize(W, np.ones((2, 2), np.float32), 4), "1-D"),
        (lambda: _core.quantize_int8(W, np.ones(4), 4), "float32"),
        (lambda: _core.quantize_int8(W, 1.0, 1), "bitwidth is 1"),
        (lambda: _core.fake_quantize(W, 1.0, 9), "between 2 and 8"),
        (lambda: _core.scale_factor(W, "max", True, 1), "bitwidth"),
        (lambda: _core.scale_factor(W, "mean", True, 4), "'max'"),
        (lambda: _core.scale_factor(W, "std", True, 4, threshold=-1.0), "threshold"),
        (lambda: _core.scale_factor(np.zeros((0, 4), np.float32), "max", True, 4), "empty"),
        (lambda: _core.scale_factor(np.float32(1.0), "max", False, 4), "at least one axis"),
        (lambda: _core.quantize_int8(W, 0.0, 4), "positive and finite"),
        (lambda: _core.fake_quantize(W, np.float32([1, 1, np.nan, 1]), 4), "scale factor 2"),
        (lambda: _core.quantize_int8(np.float32([1.0, np.inf]), 1.0, 4), "NaN or infinity"),
        (lambda: _core.fake_quantize(np.float32([np.nan]), 1.0, 4), "NaN or infinity"),
        (lambda: _core.scale_factor(np.float32([[1.0, np.nan]]), "max", True, 4), "NaN or infinity"),
        (lambda: _core.scale_factor(np.float32([[1.0, -np.inf]]), "std", False, 4), "NaN or infinity"),
    ],
)
def test_bad_input_raises_quantization_error(call, message):
    with pytest.raises(QuantizationError) as info:
        call()
    assert message in str(info.value)
    assert str(info.value).split(":")[0] in ("scale_factor", "quantize_int8", "fake_quantize")
