"""Quantized Keras layers and activations (docs/spec A.2, A.3): arguments, values, gradients, saving, training."""

import subprocess
import sys
import textwrap
from pathlib import Path

import akq
import keras
import numpy as np
import pytest
import tensorflow as tf

from akq import AkqError
from akq import quantization_layers as ql
from akq import quantization_ops as qops

PYTHON_DIR = Path(akq.__file__).resolve().parents[1]  # the akq under test: source tree or site-packages


def rng(seed=0):
    return np.random.default_rng(seed)


def fake_quantize_max(w, bits):
    """Independent numpy MaxQuantizer (per tensor): clip(rne(w*sf), -kmax, kmax)/sf."""
    kmax = np.float32(2 ** (bits - 1) - 1)
    sf = np.minimum(kmax / np.abs(w).max(), np.float32(1000))
    return np.clip(np.round(w * sf), -kmax, kmax) / sf


# -- unsupported arguments ------------------------------------------------------------------------------
UNSUPPORTED = [
    (ql.QuantizedConv2D, (4, 3), "data_format", "channels_first"),
    (ql.QuantizedConv2D, (4, 3), "activation", "relu"),
    (ql.QuantizedConv2D, (4, 3), "dilation_rate", 2),
    (ql.QuantizedConv2D, (4, 3), "groups", 2),
    (ql.QuantizedDense, (4,), "activation", "softmax"),
    (ql.QuantizedSeparableConv2D, (4, 3), "data_format", "channels_first"),
    (ql.QuantizedSeparableConv2D, (4, 3), "activation", "relu"),
    (ql.QuantizedSeparableConv2D, (4, 3), "dilation_rate", (2, 1)),
    (ql.QuantizedSeparableConv2D, (4, 3), "depth_multiplier", 2),
    (ql.QuantizedDepthwiseConv2D, (3,), "data_format", "channels_first"),
    (ql.QuantizedDepthwiseConv2D, (3,), "activation", "relu"),
    (ql.QuantizedDepthwiseConv2D, (3,), "depth_multiplier", 3),
]


@pytest.mark.parametrize("cls, args, argument, value", UNSUPPORTED)
def test_unsupported_arguments_raise_type_error(cls, args, argument, value):
    with pytest.raises(TypeError) as info:
        cls(*args, **{argument: value}, name="my_layer")
    message = str(info.value)
    assert cls.__name__ in message and "'my_layer'" in message and f"{argument}=" in message
    assert "unsupported argument" in message


@pytest.mark.parametrize("cls, args", [(ql.QuantizedConv2D, (4, 3)), (ql.QuantizedSeparableConv2D, (4, 3)),
                                       (ql.QuantizedDepthwiseConv2D, (3,))])
def test_default_values_of_unsupported_arguments_are_accepted(cls, args):
    layer = cls(*args, data_format="channels_last", activation="linear", dilation_rate=1)
    assert layer.data_format == "channels_last"


def test_quantizer_must_be_a_weight_quantizer():
    with pytest.raises(TypeError, match="WeightQuantizer"):
        ql.QuantizedDense(3, quantizer="max")
    assert ql.QuantizedDense(3).quantizer == qops.MaxQuantizer(bitwidth=4)


def test_separable_quantizer_dw_defaults_to_a_copy():
    q = qops.MaxQuantizer(bitwidth=2)
    layer = ql.QuantizedSeparableConv2D(4, 3, quantizer=q)
    assert layer.quantizer is q and layer.quantizer_dw == q and layer.quantizer_dw is not q
    dw = qops.StdWeightQuantizer(bitwidth=8)
    assert ql.QuantizedSeparableConv2D(4, 3, quantizer=q, quantizer_dw=dw).quantizer_dw is dw


# -- neural layer values ----------------------------------------------------------------------------------
def test_conv2d_and_dense_use_fake_quantized_kernel_and_float_bias():
    x = rng(1).normal(size=(2, 6, 5, 3)).astype(np.float32)
    conv = ql.QuantizedConv2D(4, (3, 2), strides=(2, 1), padding="same", quantizer=qops.MaxQuantizer(3))
    conv.build(x.shape)
    kernel, bias = rng(2).normal(size=(3, 2, 3, 4)).astype(np.float32), np.float32([0.1, -0.2, 0.3, 0.5])
    conv.set_weights([kernel, bias])
    expected = tf.nn.conv2d(x, fake_quantize_max(kernel, 3), strides=(2, 1), padding="SAME") + bias
    np.testing.assert_allclose(conv(x).numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)

    dense = ql.QuantizedDense(3, quantizer=qops.MaxQuantizer(bitwidth=4))
    dense.build((None, 5))
    kernel, bias = rng(3).normal(size=(5, 3)).astype(np.float32), np.float32([1, 2, 3])
    dense.set_weights([kernel, bias])
    xd = x[:, 0, :, 0]
    expected = xd @ fake_quantize_max(kernel, 4) + bias
    np.testing.assert_allclose(dense(xd).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_separable_uses_both_quantizers():
    x = rng(4).normal(size=(2, 5, 5, 3)).astype(np.float32)
    layer = ql.QuantizedSeparableConv2D(4, 3, padding="valid", quantizer=qops.MaxQuantizer(bitwidth=4),
                                        quantizer_dw=qops.MaxQuantizer(bitwidth=2))
    layer.build(x.shape)
    dw = rng(5).normal(size=(3, 3, 3, 1)).astype(np.float32)
    pw = rng(6).normal(size=(1, 1, 3, 4)).astype(np.float32)
    bias = np.float32([0.5, 0, 0, -1])
    layer.set_weights([dw, pw, bias])
    expected = tf.nn.separable_conv2d(x, fake_quantize_max(dw, 2), fake_quantize_max(pw, 4), (1, 1, 1, 1),
                                      "VALID")
    np.testing.assert_allclose(layer(x).numpy(), (expected + bias).numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("strides", [(2, 1), (1, 3), (3, 2)])
def test_separable_takes_unequal_strides(strides, padding):
    """TensorFlow's depthwise kernel takes equal strides only; cnn2snn models use others (legacy case_0008).
    Reference: the equivalent dense kernel dw[a, b, c] * pw[c, f] in a plain conv2d."""
    x = rng(7).normal(size=(2, 9, 8, 3)).astype(np.float32)
    layer = ql.QuantizedSeparableConv2D(4, (3, 5), strides=strides, padding=padding, use_bias=False,
                                        quantizer=qops.MaxQuantizer(bitwidth=4))
    layer.build(x.shape)
    dw, pw = (np.asarray(layer.quantizer_dw.quantize(layer.depthwise_kernel)),
              np.asarray(layer.quantizer.quantize(layer.pointwise_kernel)))
    dense = dw[:, :, :, 0, None] * pw[0, 0][None, None]
    expected = tf.nn.conv2d(x, dense, (1, *strides, 1), padding.upper()).numpy()
    got = layer(x).numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_depthwise_applies_its_bias_and_the_bias_trains():
    # The reference creates this bias but never adds it, so no gradient reaches it; akq applies it.
    x = rng(7).normal(size=(2, 4, 4, 2)).astype(np.float32)
    layer = ql.QuantizedDepthwiseConv2D(3, padding="same", quantizer=qops.MaxQuantizer(bitwidth=4))
    layer.build(x.shape)
    kernel = rng(8).normal(size=(3, 3, 2, 1)).astype(np.float32)
    layer.set_weights([kernel, np.float32([10, -10])])
    expected = tf.nn.depthwise_conv2d(x, fake_quantize_max(kernel, 4), (1, 1, 1, 1), "SAME") + [10, -10]
    np.testing.assert_allclose(layer(x).numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x) * [1.0, -2.0])
    kernel_gradient, bias_gradient = tape.gradient(loss, [layer.kernel, layer.bias])
    np.testing.assert_allclose(bias_gradient.numpy(), [x[..., 0].size, -2.0 * x[..., 0].size])
    assert np.any(kernel_gradient.numpy() != 0)


# -- activations --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bits, max_value, step", [(4, 6.0, 0.4), (2, 1.0, 0.33333334), (1, None, 1.0),
                                                   (2, None, 1.0), (4, None, 1.0), (4, 1.0, 1 / 15)])
def test_quantized_relu_step(bits, max_value, step):
    layer = ql.QuantizedReLU(bitwidth=bits, max_value=max_value)
    assert layer.step.dtype == np.float32 and layer.step == np.float32(step)
    assert layer.threshold == np.float32(step) / 2 and layer.bitwidth == bits


@pytest.mark.parametrize("bits, step", [(1, 1.0), (2, 1.0), (3, 6 / 7), (4, 0.4), (8, 6 / 255)])
def test_discrete_relu_step(bits, step):
    layer = ql.ActivationDiscreteRelu(bitwidth=bits)
    assert layer.step == np.float32(step) and layer.threshold == np.float32(step) / 2


def test_activation_levels():
    layer = ql.QuantizedReLU(bitwidth=2, max_value=3.0)  # step 1, threshold 0.5, levels 0..3
    x = np.float32([-2, 0, 0.5, 0.50001, 1.0, 1.5, 1.6, 2.49, 2.51, 3.4, 100])
    np.testing.assert_array_equal(layer(x).numpy(), np.float32([0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 3]))
    relu4 = ql.QuantizedReLU(bitwidth=4, max_value=6.0)  # step 0.4: 0.2->0, 0.21->0.4, 0.61->0.8, 7->6
    np.testing.assert_allclose(relu4(np.float32([0.2, 0.21, 0.61, 7])).numpy(), np.float32([0, 0.4, 0.8, 6]),
                               rtol=1e-7)
    one_bit = ql.ActivationDiscreteRelu(bitwidth=1)
    np.testing.assert_array_equal(one_bit(np.float32([0.5, 0.6, 9])).numpy(), np.float32([0, 1, 1]))


def test_activation_straight_through_gradient():
    # step 1, threshold 0.5: the clip sees the (straight-through) ceiling, so the gradient is 1 where
    # ceil(x - 0.5) is in [0, 3], i.e. -0.5 < x <= 3.5, and 0 elsewhere
    layer = ql.QuantizedReLU(bitwidth=2, max_value=3.0)
    x = tf.Variable(np.float32([-1.0, -0.6, -0.4, 0.2, 0.7, 1.3, 2.9, 3.4, 3.6, 9.0]))
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(layer(x))
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [0, 0, 1, 1, 1, 1, 1, 1, 0, 0])


@pytest.mark.parametrize("bits", [0, -1, 1.5])
def test_activation_bad_bitwidth(bits):
    for make in (lambda: ql.QuantizedReLU(bitwidth=bits), lambda: ql.ActivationDiscreteRelu(bitwidth=bits),
                 lambda: ql.QuantizedActivation(bitwidth=bits)):
        with pytest.raises(ValueError, match="bitwidth' must be an integer greater than zero") as info:
            make()
        assert isinstance(info.value, AkqError)


def test_quantized_relu_bad_max_value():
    with pytest.raises(ValueError, match="greater than zero"):
        ql.QuantizedReLU(bitwidth=2, max_value=0)


# -- saving -------------------------------------------------------------------------------------------
def every_layer_model():
    return keras.Sequential([
        keras.Input((12, 12, 3)),
        ql.QuantizedConv2D(8, 3, padding="same", quantizer=qops.StdPerAxisQuantizer(threshold=2, bitwidth=4)),
        keras.layers.BatchNormalization(),
        ql.ActivationDiscreteRelu(bitwidth=2),
        ql.QuantizedSeparableConv2D(8, 3, quantizer=qops.MaxPerAxisQuantizer(bitwidth=4),
                                    quantizer_dw=qops.StdWeightQuantizer(threshold=3, bitwidth=8)),
        ql.QuantizedReLU(bitwidth=4, max_value=6.0),
        ql.QuantizedDepthwiseConv2D(3, quantizer=qops.MaxQuantizer(bitwidth=2)),
        ql.QuantizedActivation(bitwidth=1, step=0.25),
        keras.layers.Flatten(),
        ql.QuantizedDense(5, quantizer=qops.MaxQuantizer(bitwidth=8)),
    ])


def test_every_trainable_variable_of_every_layer_gets_a_gradient():
    model = every_layer_model()
    x = rng(11).normal(size=(4, 12, 12, 3)).astype(np.float32)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(x, training=True) ** 2)
    gradients = tape.gradient(loss, model.trainable_variables)
    missing = [v.path for v, g in zip(model.trainable_variables, gradients, strict=True) if g is None]
    assert len(model.trainable_variables) == 11 and not missing, missing


def test_keras_save_load_round_trip_without_custom_objects(tmp_path):
    model = every_layer_model()
    x = rng(9).normal(size=(4, 12, 12, 3)).astype(np.float32)
    for layer in model.layers:  # non-trivial BN statistics and biases
        layer.set_weights([rng(10).uniform(0.5, 1.5, w.shape).astype(np.float32) * np.sign(w + 0.1)
                           for w in layer.get_weights()])
    expected = model(x, training=False).numpy()
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded(x, training=False).numpy(), expected)
    for original, restored in zip(model.layers, loaded.layers, strict=True):
        assert type(restored) is type(original) and restored.get_config() == original.get_config()
    assert loaded.layers[3].quantizer_dw == qops.StdWeightQuantizer(threshold=3, bitwidth=8)

    # a fresh process that only imports akq.quantization_layers loads it too
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", expected)
    script = textwrap.dedent(f"""
        import keras, numpy as np
        import akq.quantization_layers
        model = keras.models.load_model({str(path)!r})
        y = model(np.load({str(tmp_path / 'x.npy')!r}), training=False).numpy()
        assert (y == np.load({str(tmp_path / 'y.npy')!r})).all()
    """)
    env = {"PYTHONPATH": str(PYTHON_DIR), "TF_CPP_MIN_LOG_LEVEL": "2", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]


# -- training -----------------------------------------------------------------------------------------
def test_fit_trains_a_quantized_model():
    keras.utils.set_random_seed(0)
    x = rng(11).normal(size=(256, 8, 8, 1)).astype(np.float32)
    y = (x[:, :4].mean(axis=(1, 2, 3)) > x[:, 4:].mean(axis=(1, 2, 3))).astype(np.int32)
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        ql.QuantizedConv2D(8, 3, quantizer=qops.MaxPerAxisQuantizer(bitwidth=4)),
        ql.QuantizedReLU(bitwidth=4, max_value=6.0),
        keras.layers.Flatten(),
        ql.QuantizedDense(2, quantizer=qops.MaxQuantizer(bitwidth=4)),
    ])
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, epochs=5, batch_size=32, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.7 * losses[0]
    assert all(np.abs(a - b).max() > 0 for a, b in zip(model.get_weights(), before, strict=True))


def test_keras_own_quantize_is_refused():
    layer = ql.QuantizedDense(3, name="fc")
    layer.build((None, 4))
    with pytest.raises(ValueError, match="'fc' is already quantization-aware") as info:
        layer.quantize("int8")
    assert isinstance(info.value, AkqError)


class HalfStdQuantizer(qops.LinearWeightQuantizer):
    """A user quantizer, like the tutorial's: not registered with Keras."""

    def scale_factor(self, w):
        return self.kmax_ / (2 * tf.math.reduce_std(w))


def test_user_quantizer_saves_and_loads_with_custom_objects(tmp_path):
    layer = ql.QuantizedDense(4, quantizer=HalfStdQuantizer(bitwidth=4))
    model = keras.Sequential([keras.Input((6,)), layer])
    x = rng(12).normal(size=(3, 6)).astype(np.float32)
    model.save(tmp_path / "user.keras")
    custom = {"HalfStdQuantizer": HalfStdQuantizer}
    loaded = keras.models.load_model(tmp_path / "user.keras", custom_objects=custom)
    assert type(loaded.layers[0].quantizer) is HalfStdQuantizer and loaded.layers[0].quantizer.bitwidth == 4
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())


@pytest.mark.parametrize("float_layer, cls", [
    (keras.layers.Conv2D(4, 3, padding="same", use_bias=False), ql.QuantizedConv2D),
    (keras.layers.SeparableConv2D(4, 3, strides=2), ql.QuantizedSeparableConv2D),
    (keras.layers.DepthwiseConv2D(3), ql.QuantizedDepthwiseConv2D),
    (keras.layers.Dense(5), ql.QuantizedDense),
])
def test_quantized_layer_from_float_layer_config(float_layer, cls):
    """The way a float model is quantized: the float layer's config plus a quantizer."""
    quantizer = qops.MaxPerAxisQuantizer(bitwidth=4)
    quantized = cls.from_config({**float_layer.get_config(), "quantizer": quantizer})
    assert quantized.quantizer == qops.MaxPerAxisQuantizer(bitwidth=4)
    for key, value in float_layer.get_config().items():
        assert quantized.get_config()[key] == value
