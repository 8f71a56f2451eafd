"""Conversion calls each layer's own quantizer: built-in ones (fast paths must equal their TF methods)
and users' custom quantizers (the seed tutorial's CustomStdQuantizer, a non-linear `quantize`)."""

import akq
import numpy as np
import pytest
from akq.converter import quantize

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")
ql = akq.quantization_layers
qops = akq.quantization_ops
RNG = np.random.default_rng(3)


class CustomStdQuantizer(qops.LinearWeightQuantizer):
    """The seed tutorial's custom quantizer: range 2 std."""

    def scale_factor(self, w):
        return self.kmax_ / (2 * tf.math.reduce_std(w))


class SquareRootQuantizer(qops.WeightQuantizer):
    """A quantizer with its own (non-linear) quantize: sign(w) sqrt|w| on a max grid."""

    def scale_factor(self, w):
        return self.kmax_ / tf.reduce_max(tf.sqrt(tf.abs(w)))

    def quantize(self, w):
        t = tf.sign(w) * tf.sqrt(tf.abs(w))
        sf = self.scale_factor(w)
        return tf.clip_by_value(tf.round(t * sf), -self.kmax_, self.kmax_) / sf


@pytest.mark.parametrize("quantizer", [qops.MaxQuantizer(bitwidth=4), qops.MaxPerAxisQuantizer(bitwidth=8),
                                       qops.MaxPerAxisQuantizer(bitwidth=2)], ids=repr)
@pytest.mark.parametrize("kernel", ["normal", "tiny", "zero-channel", "zero"])
def test_builtin_max_scale_factor_equals_the_quantizers_own(quantizer, kernel):
    w = RNG.normal(0, 0.1, (3, 3, 5, 6)).astype(np.float32)
    if kernel == "tiny":
        w *= np.float32(1e-6)
    elif kernel == "zero-channel":
        w[..., 2] = 0
    elif kernel == "zero":
        w[:] = 0
    ours = quantize.scale_factor(quantizer, w, "'t'")
    theirs = np.asarray(quantizer.scale_factor(tf.constant(w)), np.float32)
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(quantize.integer_weights(quantizer, w, ours, "'t'"),
                                  np.rint(np.asarray(quantizer.quantize(tf.constant(w))) * theirs).astype(np.int8))


@pytest.mark.parametrize("quantizer", [CustomStdQuantizer(bitwidth=4), SquareRootQuantizer(bitwidth=4)], ids=repr)
def test_custom_quantizers_define_the_integer_weights(quantizer):
    model = keras.Sequential([keras.Input((6, 6, 4)),
                              ql.QuantizedConv2D(3, 3, quantizer=quantizer, name="c", padding="same"),
                              ql.QuantizedReLU(bitwidth=2, max_value=2.0)])
    kernel = model.get_layer("c").get_weights()[0]
    sf = np.asarray(quantizer.scale_factor(tf.constant(kernel)), np.float32)
    expected = np.rint(np.asarray(quantizer.quantize(tf.constant(kernel))) * sf).astype(np.int8)
    converted = akq.convert(model)
    np.testing.assert_array_equal(converted.layers[1].get_variable("weights"), expected[::-1, ::-1])


def test_quantizer_returning_a_bad_shape_is_refused():
    class Broken(qops.LinearWeightQuantizer):
        def scale_factor(self, w):
            return tf.ones((2, 2))

    model = keras.Sequential([keras.Input((6, 6, 4)), ql.QuantizedConv2D(3, 3, quantizer=Broken(4), name="bad"),
                              ql.QuantizedReLU(bitwidth=2)])
    with pytest.raises(akq.errors.QuantizationError, match="'bad'.*scale_factor returned shape"):
        akq.convert(model)
