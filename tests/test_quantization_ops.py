"""Weight quantizers (docs/spec A.1): values on hand-computed cases, shapes, gradients, errors, serialization."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from akq import AkqError
from akq import quantization_ops as qops

ALL_QUANTIZERS = [qops.MaxQuantizer, qops.MaxPerAxisQuantizer, qops.StdWeightQuantizer,
                  qops.StdPerAxisQuantizer]


def quantize(quantizer, w):
    return quantizer.quantize(tf.constant(w, tf.float32)).numpy()


class ConstantScale(qops.LinearWeightQuantizer):
    """A user quantizer (not registered) with a fixed scale factor."""

    def __init__(self, sf, bitwidth=4):
        super().__init__(bitwidth)
        self.sf = sf

    def scale_factor(self, w):
        return tf.constant(self.sf, tf.float32)


# -- values ---------------------------------------------------------------------------------------------
def test_kmax_and_attributes():
    for bits, kmax in [(2, 1), (4, 7), (8, 127)]:
        q = qops.MaxQuantizer(bitwidth=bits)
        assert (q.bitwidth, q.kmax_) == (bits, kmax)
    assert qops.StdWeightQuantizer().threshold == 3 and qops.StdWeightQuantizer().bitwidth == 4
    assert qops.MaxQuantizer().bitwidth == 4


def test_max_quantizer_rounds_half_to_even():
    # max |w| = 0.875 -> sf = 7 / 0.875 = 8 exactly; w * 8 = 7, -3.5, 0.5, 1.5, 2.5, -0.5, 3.25
    w = np.array([0.875, -0.4375, 0.0625, 0.1875, 0.3125, -0.0625, 0.40625], np.float32)
    q = qops.MaxQuantizer(bitwidth=4)
    assert q.scale_factor(tf.constant(w)).numpy() == 8.0
    expected = np.array([7, -4, 0, 2, 2, -0, 3], np.float32) / 8
    np.testing.assert_array_equal(quantize(q, w), expected)


def test_quantized_values_are_integers_times_sf_within_kmax():
    rng = np.random.default_rng(0)
    w = rng.normal(0, 0.1, (3, 3, 4, 6)).astype(np.float32)
    for cls in ALL_QUANTIZERS:
        for bits in (2, 4, 8):
            q = cls(bitwidth=bits)
            sf = q.scale_factor(tf.constant(w)).numpy()
            k = quantize(q, w) * sf
            np.testing.assert_allclose(k, np.round(k), atol=1e-4)
            assert np.abs(np.round(k)).max() <= q.kmax_


def test_max_per_axis_scale_per_output_channel():
    w = np.array([[0.5, -2.0, 0.0], [-0.25, 1.0, 0.0]], np.float32)
    q = qops.MaxPerAxisQuantizer(bitwidth=4)
    sf = q.scale_factor(tf.constant(w)).numpy()
    # channel 0: 7 / 0.5 = 14; channel 1: 7 / 2 = 3.5; channel 2 all zero: 7 / 1e-10 clipped to 1000
    np.testing.assert_array_equal(sf, np.float32([14, 3.5, 1000]))
    expected = np.array([[7 / 14, -7 / 3.5, 0], [np.round(-3.5) / 14, np.round(3.5) / 3.5, 0]], np.float32)
    np.testing.assert_array_equal(quantize(q, w), expected)


def test_per_tensor_vs_per_axis():
    w = np.array([[0.5, -2.0], [-0.25, 1.0]], np.float32)
    per_tensor = qops.MaxQuantizer(bitwidth=4).scale_factor(tf.constant(w)).numpy()
    assert per_tensor.shape == () and per_tensor == 3.5
    # one scale for all: 0.5 * 3.5 = 1.75 -> 2, -0.875 -> -1, 3.5 -> 4 (half to even); the first channel
    # keeps only 3 levels where its own scale (14) gives 15
    np.testing.assert_array_equal(quantize(qops.MaxQuantizer(bitwidth=4), w),
                                  np.float32([[2, -7], [-1, 4]]) / np.float32(3.5))


def test_all_zero_kernel_gives_scale_1000():
    w = np.zeros((3, 3, 2, 4), np.float32)
    for cls in ALL_QUANTIZERS:
        q = cls(bitwidth=4)
        sf = q.scale_factor(tf.constant(w)).numpy()
        np.testing.assert_array_equal(sf, np.full(np.shape(sf), 1000, np.float32))
        np.testing.assert_array_equal(quantize(q, w), w)


def test_tiny_weights_quantize_to_zero():
    # sf = 7 / 1e-6 is clipped to 1000, so 1e-6 * 1000 = 1e-3 rounds to 0
    w = np.full((4, 2), 1e-6, np.float32)
    for cls in ALL_QUANTIZERS:
        q = cls(bitwidth=4)
        np.testing.assert_array_equal(quantize(q, w), np.zeros_like(w))
    sf = qops.MaxPerAxisQuantizer(bitwidth=4).scale_factor(tf.constant(np.full((4, 2), 1e-12, np.float32)))
    np.testing.assert_array_equal(sf.numpy(), np.float32([1000, 1000]))


def test_huge_weights():
    w = np.array([1e30, -5e29, 1e28], np.float32)
    q = qops.MaxQuantizer(bitwidth=4)
    sf = np.float32(7) / np.float32(1e30)
    assert q.scale_factor(tf.constant(w)).numpy() == sf
    expected = np.clip(np.round(w * sf), -7, 7) / sf
    np.testing.assert_array_equal(quantize(q, w), expected)
    assert np.isfinite(quantize(qops.MaxPerAxisQuantizer(bitwidth=4), w[None, :])).all()


def test_std_quantizer_matches_simple_reference_and_clips_outliers():
    w = np.array([0, 0, 0, 0, 0, 0, 0, 8], np.float32)  # mean 1, variance 7
    q = qops.StdWeightQuantizer(threshold=1, bitwidth=4)
    sf = np.float32(7) / (np.float32(1) * np.float32(np.sqrt(7.0)))
    np.testing.assert_allclose(q.scale_factor(tf.constant(w)).numpy(), sf, rtol=1e-6)
    got = quantize(q, w)
    np.testing.assert_array_equal(got[:7], 0)
    np.testing.assert_allclose(got[7], 7 / sf, rtol=1e-6)  # 8 * sf = 21.2 is clipped to kmax


def test_std_uses_tensorflow_float32_reduce_std():
    rng = np.random.default_rng(1)
    w = tf.constant(rng.normal(0, 0.05, (5, 5, 3, 7)).astype(np.float32))
    q = qops.StdPerAxisQuantizer(threshold=2, bitwidth=8)
    expected = tf.clip_by_value(127 / (2 * tf.math.reduce_std(w, axis=[0, 1, 2])), 0, 1000)
    np.testing.assert_array_equal(q.scale_factor(w).numpy(), expected.numpy())
    expected = tf.clip_by_value(127 / (2 * tf.math.reduce_std(w)), 0, 1000)
    assert qops.StdWeightQuantizer(threshold=2, bitwidth=8).scale_factor(w).numpy() == expected.numpy()


# -- shapes ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(7, 5), (3, 3, 4, 6), (5, 5, 8, 1), (1, 1, 16, 3)])
def test_shapes(shape):
    w = tf.constant(np.random.default_rng(2).normal(size=shape).astype(np.float32))
    for cls in ALL_QUANTIZERS:
        q = cls(bitwidth=4)
        assert q.quantize(w).shape == w.shape and q.quantize(w).dtype == tf.float32
        per_axis = cls in (qops.MaxPerAxisQuantizer, qops.StdPerAxisQuantizer)
        assert tuple(q.scale_factor(w).shape) == ((shape[-1],) if per_axis else ())


# -- gradients ------------------------------------------------------------------------------------------
def gradient(quantizer, w):
    w = tf.Variable(np.asarray(w, np.float32))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(quantizer.quantize(w))
    return tape.gradient(loss, w).numpy()


def test_rounding_is_straight_through_and_clip_blocks_gradient():
    # constant sf = 2: 0.1*2 and -1.2*2 are in range (gradient 1), 5*2 = 10 > 7 and -4*2 < -7 are clipped (0)
    np.testing.assert_array_equal(gradient(ConstantScale(2.0), [0.1, -1.2, 5.0, -4.0]), [1, 1, 0, 0])


def test_gradient_flows_through_scale_factor():
    # w = [0.875, 0.3], MaxQuantizer(4): sf = 7/m = 8 with m = max|w|; q = [7, rne(2.4) = 2].
    # d sum(wq) / d sf = sum(w*sf - q) / sf^2 = 0.4 / 64 and d sf / dm = -7 / m^2, so
    # the gradient of the max element is 1 - 0.4 * 7 / (64 * 0.765625) = 1 - 0.4 / 7.
    g = gradient(qops.MaxQuantizer(bitwidth=4), [0.875, 0.3])
    np.testing.assert_allclose(g, [1 - 0.4 / 7, 1], rtol=1e-5)


def test_gradients_exist_for_every_quantizer():
    w = np.random.default_rng(3).normal(size=(3, 3, 2, 4)).astype(np.float32)
    for cls in ALL_QUANTIZERS:
        g = gradient(cls(bitwidth=4), w)
        assert g.shape == w.shape and np.isfinite(g).all() and np.abs(g).sum() > 0


# -- errors ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bits", [1, 0, -3, 2.5, True, "4", None])
def test_bad_bitwidth(bits):
    for cls in ALL_QUANTIZERS:
        with pytest.raises(ValueError, match="bitwidth") as info:
            cls(bitwidth=bits)
        assert isinstance(info.value, AkqError)
        assert "higher than 1" in str(info.value) and "Use bitwidth=2" in str(info.value)


# -- serialization ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("quantizer", [qops.MaxQuantizer(bitwidth=2), qops.MaxPerAxisQuantizer(bitwidth=8),
                                       qops.StdWeightQuantizer(threshold=2.5, bitwidth=4),
                                       qops.StdPerAxisQuantizer(threshold=1, bitwidth=3)])
def test_serialization_round_trip(quantizer):
    config = keras.saving.serialize_keras_object(quantizer)
    assert config["registered_name"] == f"akq>{type(quantizer).__name__}"
    restored = keras.saving.deserialize_keras_object(config)
    assert type(restored) is type(quantizer) and restored == quantizer
    assert restored.get_config() == quantizer.get_config()
    w = tf.constant(np.random.default_rng(4).normal(size=(3, 5)).astype(np.float32))
    np.testing.assert_array_equal(restored.quantize(w).numpy(), quantizer.quantize(w).numpy())
