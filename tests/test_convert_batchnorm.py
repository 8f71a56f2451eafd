"""akq extension: BatchNormalization after a per-tensor quantized layer (the seed tutorial's model).

The reference refuses it; akq folds the BN scale into the per-channel thresholds and steps and keeps the
per-tensor weights as trained. Checked here against an independent float computation of the Keras
block, for positive and negative gammas.
"""

import akq
import numpy as np
import pytest

keras = pytest.importorskip("keras")
ql = akq.quantization_layers
qops = akq.quantization_ops
L = keras.layers
RNG = np.random.default_rng(7)


def seed_tutorial_model():
    """The model of the seed tutorial (section 1), with trained-looking BN statistics."""
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        ql.QuantizedConv2D(8, 3, quantizer=qops.MaxQuantizer(bitwidth=8), name="conv2d"),
        L.MaxPool2D(name="max_pooling2d"),
        L.BatchNormalization(name="batch_normalization"),
        ql.QuantizedReLU(bitwidth=4, name="re_lu"),
        L.Flatten(name="flatten"),
        ql.QuantizedDense(10, quantizer=qops.MaxQuantizer(bitwidth=4), name="dense"),
        L.Softmax(name="softmax"),
    ])
    _set_bn(model.get_layer("batch_normalization"), RNG.uniform(0.5, 2.0, 8))
    return model


def _set_bn(bn, gamma):
    c = len(gamma)
    bn.set_weights([np.asarray(gamma, np.float32), RNG.normal(0, 0.5, c).astype(np.float32),
                    RNG.normal(0, 0.2, c).astype(np.float32), RNG.uniform(0.05, 0.5, c).astype(np.float32)])


def _keras_block_math(model, conv_name, bn_name):
    """Float reference: (W_int, sf, g, folded bias) of conv + BN, straight from the Keras weights."""
    import tensorflow as tf

    conv, bn = model.get_layer(conv_name), model.get_layer(bn_name)
    bias = conv.get_weights()[1].astype(np.float64)
    gamma, beta, mean, var = (w.astype(np.float64) for w in bn.get_weights())
    sf = float(conv.quantizer.scale_factor(tf.constant(conv.get_weights()[0])))
    kmax = 2 ** (conv.quantizer.bitwidth - 1) - 1
    w_int = np.clip(np.round(conv.get_weights()[0] * np.float32(sf)), -kmax, kmax)
    g = gamma / np.sqrt(var + bn.epsilon)
    return w_int, sf, g, beta + (bias - mean) * g


def test_seed_tutorial_model_converts():
    model = seed_tutorial_model()
    converted = akq.convert(model, input_scaling=(255, 0))
    types = [layer._spec.type.name for layer in converted.layers]
    assert types == ["InputConvolutional", "FullyConnected"]
    first = converted.layers[0]
    assert first.parameters.pool_type == akq.PoolType.Max
    assert first.parameters.act_bits == 4
    assert not converted.layers[1].parameters.activation


def test_seed_thresholds_and_steps_follow_the_float_model():
    model = seed_tutorial_model()
    converted = akq.convert(model, input_scaling=(255, 0))
    w_int, sf, g, bias = _keras_block_math(model, "conv2d", "batch_normalization")
    first = converted.layers[0]
    # per-tensor weights are kept as trained: the same integers, unfolded
    np.testing.assert_array_equal(first.get_variable("weights"), w_int.astype(np.int8))
    sigma = float(model.get_layer("re_lu").step)
    # the BN block fires when g * (p / (a sf)) + bias > sigma / 2, i.e. p > a sf (sigma/2 - bias) / g
    a = 255.0
    threshold_real = a * sf * (sigma / 2 - bias) / g
    threshold = first.get_variable("threshold")
    assert np.all(threshold <= threshold_real + 1e-6) and np.all(threshold > threshold_real - 1 - 1e-6)
    step = first.get_variable("act_step").astype(np.float64)
    np.testing.assert_allclose(step, a * sf * sigma / g, rtol=1e-6)  # 4-bit: 2^b/16 == 1


def _correlate_valid(x, w):
    """p[n, i, j, f] = sum_{a, b, c} w[a, b, c, f] x[n, i + a, j + b, c] (InputConvolutional, valid)."""
    k0, k1 = w.shape[:2]
    windows = np.lib.stride_tricks.sliding_window_view(x, (k0, k1), axis=(1, 2))  # n, i, j, c, a, b
    return np.einsum("nijcab,abcf->nijf", windows.astype(np.int64), w.astype(np.int64))


@pytest.mark.parametrize("gammas", ["positive", "mixed-sign"])
def test_activations_track_keras_with_batchnorm_after_per_tensor_conv(gammas):
    model = keras.Sequential([
        keras.Input(shape=(12, 12, 3)),
        ql.QuantizedConv2D(6, 3, quantizer=qops.StdWeightQuantizer(bitwidth=4), name="conv"),
        L.BatchNormalization(name="bn"),
        ql.QuantizedReLU(bitwidth=4, max_value=6.0, name="act"),
    ])
    gamma = RNG.uniform(0.3, 2.0, 6) * (np.array([1, -1, 1, -1, 1, 1]) if gammas == "mixed-sign" else 1)
    _set_bn(model.get_layer("bn"), gamma)
    converted = akq.convert(model, input_scaling=(255, 0))
    layer = converted.layers[0]
    negative = gamma < 0
    w_int, sf, g, bias = _keras_block_math(model, "conv", "bn")
    w = layer.get_variable("weights")
    np.testing.assert_array_equal(w[..., ~negative], w_int[..., ~negative])
    np.testing.assert_array_equal(w[..., negative], -w_int[..., negative])

    x = RNG.integers(0, 256, (16, 12, 12, 3)).astype(np.uint8)
    sigma, bits = float(model.get_layer("act").step), 4
    # Keras, in float64 from the same integer weights: z = g * conv(x / 255, W / sf) + folded bias
    z = g * _correlate_valid(x, w_int) / (255.0 * sf) + bias
    keras_levels = np.clip(np.ceil((z - sigma / 2) / sigma), 0, 2 ** bits - 1)
    # akq, with the engine's integer rule (docs/spec C.6)
    p = _correlate_valid(x, w)
    s16 = np.floor(16 * layer.get_variable("act_step").astype(np.float64))
    akq_levels = np.clip(np.ceil(2 ** bits * (p - layer.get_variable("threshold")) / s16), 0, 2 ** bits - 1)
    assert np.mean(akq_levels == keras_levels) > 0.99
    np.testing.assert_array_equal(akq_levels > 0, keras_levels > 0)  # the first level is exact


def test_negative_gamma_after_maxpool_is_refused_clearly():
    model = seed_tutorial_model()
    _set_bn(model.get_layer("batch_normalization"), np.array([1, 1, -1, 1, 1, 1, 1, 1.0]))
    with pytest.raises(akq.errors.BatchNormError, match="max_pooling2d.*positive"):
        akq.convert(model, input_scaling=(255, 0))


def test_report_says_batchnorm_went_into_thresholds():
    from akq.converter import convert_with_report

    _, report = convert_with_report(seed_tutorial_model(), input_scaling=(255, 0))
    assert any("batch_normalization" in w and "thresholds" in w for w in report.warnings)


def test_seed_predict_tracks_keras_logits():
    """predict of the converted seed model against the Keras logits (before Softmax), as closely as the
    reference tracks per-axis models (docs/spec F.4 item 9: median relative max error 8.4e-3)."""
    model = seed_tutorial_model()
    x = RNG.integers(0, 256, (64, 28, 28, 1)).astype(np.uint8)
    logits = keras.Model(model.inputs, model.get_layer("dense").output).predict(x.astype(np.float32) / 255,
                                                                                verbose=0)
    predicted = akq.convert(model, input_scaling=(255, 0)).predict(x).reshape(logits.shape)
    relative = np.abs(predicted - logits).max(axis=1) / np.abs(logits).max(axis=1)
    assert np.median(relative) < 8.4e-3
    assert np.mean(predicted.argmax(axis=1) == logits.argmax(axis=1)) >= 0.95
