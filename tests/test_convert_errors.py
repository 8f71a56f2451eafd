"""Every refusal of the reference converter (docs/spec B.7) raises a typed akq error naming the layer, the
rule and the fix; check_model_compatibility lists every broken rule."""

import akq
import numpy as np
import pytest
from akq import errors

keras = pytest.importorskip("keras")
ql = akq.quantization_layers
qops = akq.quantization_ops
L = keras.layers


def q(bits=4):
    return qops.MaxPerAxisQuantizer(bitwidth=bits)


def conv(filters=4, kernel=3, name=None, bits=4, **kw):
    return ql.QuantizedConv2D(filters, kernel, quantizer=q(bits), name=name, padding=kw.pop("padding", "same"), **kw)


def relu(name=None, bits=2):
    return ql.QuantizedReLU(bitwidth=bits, max_value=2.0, name=name)


def dense(units=3, name=None, bits=4):
    return ql.QuantizedDense(units, quantizer=q(bits), name=name)


def seq(input_shape, *layers, name="m"):
    return keras.Sequential([keras.Input(input_shape), *layers], name=name)


def image(*layers):
    """A model on 8x8 grey images: the first layer becomes InputConvolutional."""
    return seq((8, 8, 1), *layers)


def data(*layers):
    """A model on 8x8x4 integer inputs: InputData first."""
    return seq((8, 8, 4), *layers)


def raises(model, error, *fragments, input_scaling=None):
    with pytest.raises(error) as info:
        akq.convert(model, input_scaling=input_scaling)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert isinstance(info.value, akq.AkqError)
    return message


def test_activation_bits_not_1_2_4():
    raises(data(conv(), ql.QuantizedReLU(bitwidth=3, name="act3")), errors.QuantizationError,
           "'act3'", "bitwidth 3", "1, 2 or 4")


def test_weight_bits_not_2_4_8_after_the_first_layer():
    raises(data(conv(bits=3, name="c3"), relu()), errors.QuantizationError, "'c3'", "bitwidth 3", "2, 4 or 8")


def test_input_convolutional_accepts_odd_weight_bits():
    model = akq.convert(image(conv(bits=5, name="first"), relu()))
    assert model.layers[0].parameters.weights_bits == 5


def test_quantizer_bitwidth_1_is_refused_at_construction():
    with pytest.raises(ValueError):
        qops.MaxQuantizer(bitwidth=1)


def _set_bn(model, name, gamma):
    bn = model.get_layer(name)
    c = len(gamma)
    bn.set_weights([np.asarray(gamma, np.float32), np.zeros(c, np.float32), np.zeros(c, np.float32),
                    np.ones(c, np.float32)])


def test_maxpool_then_negative_gamma_batchnorm():
    model = data(conv(name="c"), L.MaxPool2D(padding="same", name="pool"), L.BatchNormalization(name="bn"), relu())
    _set_bn(model, "bn", [1, -1, 0.5, -2])
    raises(model, errors.BatchNormError, "'bn'", "'pool'", "2 negative", "gamma_constraint")


def test_null_gammas():
    model = data(conv(name="c"), L.BatchNormalization(name="bn"), relu())
    _set_bn(model, "bn", [1, 0, 0, 2])
    raises(model, errors.BatchNormError, "2 null gammas", "'bn'")


def test_batchnorm_not_on_last_axis():
    model = data(conv(name="c"), L.BatchNormalization(axis=1, name="bn1"), relu())
    raises(model, errors.BatchNormError, "'bn1'", "last", "axis=-1")


def test_batchnorm_after_activation():
    raises(data(conv(), relu(name="r"), L.BatchNormalization(name="late_bn"), conv(), relu()),
           errors.UnsupportedLayerError, "'late_bn'", "BatchNormalization", "before the activation")


def test_two_neural_layers_without_activation():
    raises(data(conv(name="a"), conv(name="b"), relu()), errors.LayerOrderError, "'a'", "'b'", "activation")


def test_two_activations_in_a_row():
    raises(data(conv(), relu(name="r1"), relu(name="r2")), errors.LayerOrderError, "'r2'", "'r1'", "neural layer")


@pytest.mark.parametrize("layers, pool", [
    (lambda: [conv(), relu(), L.GlobalAveragePooling2D(name="gap")], "gap"),
    (lambda: [conv(), L.MaxPool2D(padding="same", name="p1"), L.MaxPool2D(padding="same", name="p2"), relu()], "p2"),
    (lambda: [L.Flatten(), dense(), L.Reshape((1, 1, 3)), L.MaxPool2D(1, name="pd"), relu()], "pd"),
], ids=["gap-after-activation", "two-pools", "pool-after-dense"])
def test_pool_not_directly_after_a_convolution(layers, pool):
    raises(data(*layers()), errors.LayerOrderError, f"'{pool}'", "directly after a convolutional")


def test_pool_as_first_layer():
    raises(data(L.MaxPool2D(name="p0"), conv(), relu()), errors.LayerOrderError, "'p0'", "first layer")


def test_maxpool_padding_differs_from_conv():
    raises(data(conv(name="c", padding="same"), L.MaxPool2D(padding="valid", name="p"), relu()),
           errors.LayerOrderError, "'p'", "'c'", "padding: valid", "padding: same")


def test_flatten_not_before_dense():
    raises(data(conv(), relu(), L.Flatten(name="flat"), L.Reshape((1, 1, 256)), conv(3, 1), relu()),
           errors.LayerOrderError, "'flat'", "before a Dense")


def test_dense_on_spatial_input():
    raises(data(conv(), relu(), dense(name="d")), errors.LayerOrderError, "'d'", "(8, 8, 4)", "Flatten")


def test_softmax_before_a_neural_layer():
    raises(data(conv(), relu(), L.Softmax(name="sm"), L.Flatten(), dense()), errors.LayerOrderError,
           "'sm'", "before a neural layer", "QuantizedReLU")


def test_trailing_softmax_is_dropped():
    model = akq.convert(data(conv(), relu(), L.Flatten(), dense(), L.Softmax()))
    assert not model.layers[-1].parameters.activation


@pytest.mark.parametrize("make, name, cls", [
    (lambda: data(conv(), L.ReLU(name="plain_relu"), conv(), relu()), "plain_relu", "ReLU"),
    (lambda: data(conv(), relu(), L.Conv2D(4, 3, name="float_conv"), relu()), "float_conv", "Conv2D"),
    (lambda: data(ql.QuantizedDepthwiseConv2D(3, quantizer=q(), name="dw"), relu()), "dw", "QuantizedDepthwiseConv2D"),
    (lambda: data(conv(), relu(), L.LayerNormalization(name="ln")), "ln", "LayerNormalization"),
], ids=["relu", "float-conv", "depthwise", "other"])
def test_unsupported_layer_types(make, name, cls):
    raises(make(), errors.UnsupportedLayerError, f"'{name}'", cls)


@pytest.mark.parametrize("make", [
    lambda: image(L.Conv2D(4, 3, name="first"), relu()),
    lambda: image(ql.QuantizedSeparableConv2D(4, 3, quantizer=q(), name="first"), relu()),
    lambda: seq((3,), dense(name="first"), relu()),
], ids=["float-conv", "separable", "flat-3"])
def test_image_model_must_start_with_quantized_conv(make):
    message = raises(make(), errors.FirstLayerError, "'first'", "QuantizedConv2D", "1 or 3 channels")
    with pytest.raises(TypeError):
        akq.convert(make())
    assert message


@pytest.mark.parametrize("kw, rule", [
    ({"kernel": 2}, "odd"),
    ({"kernel": 1, "strides": 2}, "kernel_stride"),
], ids=["even-kernel", "stride-beyond-kernel"])
def test_kernel_rules(kw, rule):
    raises(data(conv(name="k", **kw), relu()), errors.LayerError, "'k'", rule, "Change the Keras layer")


def test_pool_stride_beyond_pool_size():
    raises(data(conv(name="k"), L.MaxPool2D(2, strides=3, padding="same", name="p"), relu()), errors.LayerError,
           "'k + p", "pool_stride")


def test_separable_depthwise_and_pointwise_bits_differ():
    sep = ql.QuantizedSeparableConv2D(4, 3, quantizer=q(4), quantizer_dw=qops.MaxQuantizer(bitwidth=2), name="sep",
                                      padding="same")
    raises(data(sep, relu()), errors.QuantizationError, "'sep'", "same bitwidth", "2 and 4")


def test_invalid_reshape():
    raises(data(conv(), relu(), L.Reshape((16, 4, 4), name="rs"), L.Flatten(), dense()), errors.LayerOrderError,
           "'rs'", "(8, 8, 4)", "(16, 4, 4)")


def test_rescaling_not_first():
    raises(image(conv(), relu(), L.Rescaling(0.5, name="late_scale"), conv(), relu()),
           errors.LayerOrderError, "'late_scale'", "first layer")


def test_rescaling_in_a_non_image_model():
    raises(data(L.Rescaling(1 / 15, name="rs"), conv(), relu()), errors.UnsupportedLayerError, "'rs'",
           "input_scaling")


def test_rescaling_and_input_scaling():
    raises(image(L.Rescaling(1 / 255, name="rs"), conv(), relu()), errors.InputScalingError, "'rs'",
           "input_scaling=None", input_scaling=(255, 0))


@pytest.mark.parametrize("scaling", [(0, 0), (-1, 0), (float("nan"), 0), (1,), "x", (1, 1e12)])
def test_bad_input_scaling(scaling):
    raises(image(conv(), relu()), errors.InputScalingError, "input_scaling", input_scaling=scaling)


def test_input_rank_3():
    raises(seq((16, 16), L.Flatten(), dense(), relu()), errors.ModelStructureError, "(None, 16, 16)", "4-D")


def test_branches_concatenate():
    x = keras.Input((8, 8, 4))
    a, b = conv(name="a")(x), conv(name="b")(x)
    model = keras.Model(x, L.Concatenate(name="cat")([a, b]))
    raises(model, errors.ModelStructureError, "'cat'", "sequential branch")


def test_add_merge():
    x = keras.Input((8, 8, 4))
    y = relu()(conv(name="c1")(x))
    model = keras.Model(x, L.Add(name="add")([y, conv(name="c2")(y)]))
    raises(model, errors.ModelStructureError, "'add'", "2 inbound")


def test_linear_functional_model_converts():
    x = keras.Input((8, 8, 4))
    model = keras.Model(x, dense()(L.Flatten()(relu()(conv()(x)))))
    assert [type(l).__name__ for l in akq.convert(model).layers] == ["InputData", "Convolutional", "FullyConnected"]


def test_channels_first():
    raises(data(conv(), L.MaxPool2D(data_format="channels_first", padding="same", name="cf"), relu()),
           errors.ModelStructureError, "'cf'", "channels_last")


def test_act_step_below_one_sixteenth():
    model = data(conv(name="big", bits=2), ql.QuantizedReLU(bitwidth=1, name="r"))
    w = model.get_layer("big").get_weights()
    model.get_layer("big").set_weights([np.full_like(w[0], 10.0), w[1]])  # sf = 1/10: act_step = 0.1*2/16
    raises(model, errors.ActStepError, "'big + r'", "1/16", "bitwidth")


def test_tensorflow_not_eager(monkeypatch):
    import tensorflow as tf

    model = data(conv(), relu())
    monkeypatch.setattr(tf, "executing_eagerly", lambda: False)
    raises(model, errors.ConversionError, "eager")


def test_check_model_compatibility_lists_every_broken_rule(capsys):
    model = data(conv(name="a"), L.ReLU(name="plain"), conv(name="b"), conv(name="c"), relu())
    assert akq.check_model_compatibility(model) is False
    out = capsys.readouterr().out
    assert "'plain'" in out and "'b'" in out and "'c'" in out
    assert len(out.strip().splitlines()) >= 2


def test_check_model_compatibility_true_for_a_good_model(capsys):
    assert akq.check_model_compatibility(data(conv(), relu(), L.Flatten(), dense())) is True
    assert capsys.readouterr().out == ""


def test_threshold_beyond_int32():
    model = image(conv(name="huge", bits=8), relu(name="r"))
    w, b = model.get_layer("huge").get_weights()
    model.get_layer("huge").set_weights([w, np.full_like(b, -1e9)])
    raises(model, errors.QuantizationError, "'huge + r'", "int32", "bias")


def test_non_finite_weights():
    model = data(conv(name="nan_conv"), relu())
    w, b = model.get_layer("nan_conv").get_weights()
    w[0, 0, 0, 0] = np.nan
    model.get_layer("nan_conv").set_weights([w, b])
    raises(model, errors.QuantizationError, "'nan_conv'", "NaN")
