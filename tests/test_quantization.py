"""akq.quantize / akq.quantize_layer: the cnn2snn legacy semantics on small models."""

import akq
import keras
import numpy as np
import pytest
from akq import quantization_layers as qlayers
from akq import quantization_ops as qops
from akq.errors import BatchNormError, ModelStructureError, QuantizationError

L = keras.layers


def _randomize_batchnorms(model, seed=0):
    """Give every BN non-trivial statistics so that folding changes the weights."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            n = layer.moving_mean.shape[0]
            layer.set_weights([rng.uniform(0.5, 2, n), rng.normal(0, 0.5, n), rng.normal(0, 0.5, n),
                               rng.uniform(0.2, 3, n)])


def image_model(functional=False):
    layers = [
        L.Conv2D(8, 3, padding="same", name="conv"),
        L.BatchNormalization(name="conv_bn"),
        L.ReLU(6.0, name="conv_relu"),
        L.MaxPool2D(padding="same", name="pool"),
        L.SeparableConv2D(16, 3, padding="same", use_bias=False, name="sep"),
        L.BatchNormalization(name="sep_bn"),
        L.ReLU(name="sep_relu"),
        L.DepthwiseConv2D(3, name="dw"),
        L.Activation("relu", name="dw_relu"),
        L.BatchNormalization(name="late_bn"),
        L.Flatten(name="flatten"),
        L.Dense(10, name="dense"),
        L.Softmax(name="softmax"),
    ]
    if functional:
        inputs = keras.Input((12, 12, 3), name="image")
        x = inputs
        for layer in layers:
            x = layer(x)
        model = keras.Model(inputs, x, name="toy")
    else:
        model = keras.Sequential([keras.Input((12, 12, 3)), *layers], name="toy")
    _randomize_batchnorms(model)
    return model


@pytest.fixture(scope="module")
def float_model():
    return image_model()


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(1).uniform(0, 1, (6, 12, 12, 3)).astype(np.float32)


def _types(model):
    return {layer.name: type(layer) for layer in model.layers}


def test_neural_layers_and_relus_are_replaced_with_legacy_quantizers(float_model):
    q = akq.quantize(float_model, weight_quantization=4, activ_quantization=2, input_weight_quantization=8)
    types = _types(q)
    assert types["conv"] is qlayers.QuantizedConv2D
    assert types["sep"] is qlayers.QuantizedSeparableConv2D
    assert types["dw"] is qlayers.QuantizedDepthwiseConv2D
    assert types["dense"] is qlayers.QuantizedDense
    assert types["conv_relu"] is types["sep_relu"] is types["dw_relu"] is qlayers.QuantizedReLU
    assert types["pool"] is L.MaxPooling2D and types["softmax"] is L.Softmax and types["flatten"] is L.Flatten
    conv, sep, dw, dense = (q.get_layer(n) for n in ("conv", "sep", "dw", "dense"))
    assert conv.quantizer == qops.MaxPerAxisQuantizer(bitwidth=8)  # first neural layer: input bits
    assert sep.quantizer == qops.MaxPerAxisQuantizer(bitwidth=4)
    assert sep.quantizer_dw == qops.MaxQuantizer(bitwidth=4)  # Akida needs a per-tensor depthwise quantizer
    assert dw.quantizer.bitwidth == 4 and dense.quantizer == qops.MaxPerAxisQuantizer(bitwidth=4)
    assert all(q.get_layer(n).bitwidth == 2 for n in ("conv_relu", "sep_relu", "dw_relu"))


def test_relu_max_value_is_kept_and_unbounded_relu_gets_the_quantized_default(float_model):
    q = akq.quantize(float_model, 4, 4)
    assert q.get_layer("conv_relu").max_value == 6.0
    assert q.get_layer("conv_relu").step == np.float32(0.4)
    assert q.get_layer("sep_relu").max_value == 15.0  # QuantizedReLU(4) default: 2^4 - 1
    assert q.get_layer("dw_relu").max_value == 15.0


def test_input_weight_quantization_defaults_to_weight_quantization(float_model):
    q = akq.quantize(float_model, 2, 1)
    assert q.get_layer("conv").quantizer.bitwidth == 2
    assert q.get_layer("dense").quantizer.bitwidth == 2


def test_zero_leaves_that_part_float(float_model, images):
    activations_only = akq.quantize(float_model, weight_quantization=0, activ_quantization=4, fold_BN=False)
    types = _types(activations_only)
    assert types["conv"] is L.Conv2D and types["dense"] is L.Dense and types["sep"] is L.SeparableConv2D
    assert types["conv_relu"] is qlayers.QuantizedReLU

    weights_only = akq.quantize(float_model, weight_quantization=4, activ_quantization=0)
    assert _types(weights_only)["conv_relu"] is L.ReLU and _types(weights_only)["dw_relu"] is L.Activation

    first_float = akq.quantize(float_model, 4, 4, input_weight_quantization=0)
    assert type(first_float.get_layer("conv")) is L.Conv2D
    assert type(first_float.get_layer("sep")) is qlayers.QuantizedSeparableConv2D

    untouched = akq.quantize(float_model, 0, 0, fold_BN=False)
    assert _types(untouched) == _types(float_model)
    np.testing.assert_array_equal(untouched(images), float_model(images))


def test_weights_and_names_are_kept_and_the_original_is_untouched(float_model):
    before = [w.copy() for w in float_model.get_weights()]
    q = akq.quantize(float_model, 4, 4, fold_BN=False)
    assert [layer.name for layer in q.layers] == [layer.name for layer in float_model.layers]
    assert q.name == float_model.name
    for a, b in zip(q.get_weights(), float_model.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(float_model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    assert type(float_model.get_layer("conv")) is L.Conv2D


def test_fold_bn_folds_only_batchnorms_right_after_conv_separable_or_dense(float_model, images):
    q = akq.quantize(float_model, 0, 0, fold_BN=True)
    names = [layer.name for layer in q.layers]
    assert "conv_bn" not in names and "sep_bn" not in names
    assert "late_bn" in names  # after an activation: kept
    # independent fold of conv_bn: kernel * gamma / sqrt(var + eps), beta + (bias - mean) * that
    bn = float_model.get_layer("conv_bn")
    gamma, beta, mean, var = bn.get_weights()
    g = gamma / np.sqrt(var + np.float32(bn.epsilon))
    kernel, bias = float_model.get_layer("conv").get_weights()
    folded_kernel, folded_bias = q.get_layer("conv").get_weights()
    np.testing.assert_allclose(folded_kernel, kernel * g, rtol=1e-6)
    np.testing.assert_allclose(folded_bias, beta + (bias - mean) * g, rtol=1e-5, atol=1e-6)
    # the separable layer had no bias: the folded one has one, and the BN went into the pointwise kernel
    sep = q.get_layer("sep")
    assert sep.use_bias
    dw, pw, _ = sep.get_weights()
    np.testing.assert_array_equal(dw, float_model.get_layer("sep").get_weights()[0])
    assert not np.allclose(pw, float_model.get_layer("sep").get_weights()[1])
    # the float function is unchanged (inference mode)
    np.testing.assert_allclose(q(images), float_model(images, training=False), rtol=1e-4, atol=1e-6)


def test_fold_bn_then_quantize_uses_the_folded_kernel(float_model):
    q = akq.quantize(float_model, 4, 4)
    assert "conv_bn" not in [layer.name for layer in q.layers]
    assert isinstance(q.get_layer("conv"), qlayers.QuantizedConv2D)
    folded = akq.quantize(float_model, 0, 0).get_layer("conv").get_weights()[0]
    np.testing.assert_array_equal(q.get_layer("conv").get_weights()[0], folded)


def test_linear_functional_models_are_quantized_as_functional_models(images):
    functional = image_model(functional=True)
    q = akq.quantize(functional, 4, 4, 8)
    assert not isinstance(q, keras.Sequential)
    assert q.layers[0].name == "image"
    assert type(q.get_layer("conv")) is qlayers.QuantizedConv2D
    same = akq.quantize(functional, 0, 0)
    np.testing.assert_allclose(same(images), functional(images, training=False), rtol=1e-4, atol=1e-6)


def test_branching_and_nested_models_are_refused_as_convert_refuses_them():
    inputs = keras.Input((8, 8, 2))
    a = L.Conv2D(4, 3, padding="same", name="a")(inputs)
    b = L.Conv2D(4, 3, padding="same", name="b")(inputs)
    branching = keras.Model(inputs, L.Add(name="add")([a, b]))
    inner = keras.Sequential([keras.Input((8, 8, 2)), L.Conv2D(4, 3)], name="inner")
    nested = keras.Sequential([keras.Input((8, 8, 2)), inner, L.ReLU()])
    for model, message in ((branching, "'add' .*2 inbound layers"), (nested, "'inner' is a nested model")):
        with pytest.raises(ModelStructureError, match=message) as quantizing:
            akq.quantize(model, 4, 4)
        with pytest.raises(ModelStructureError) as converting:
            akq.convert(model)
        assert str(quantizing.value) == str(converting.value)


def test_fold_bn_refuses_a_null_gamma_as_convert_does():
    model = keras.Sequential([keras.Input((8, 8, 1)), L.Conv2D(4, 3, padding="same", name="conv"),
                              L.BatchNormalization(name="bn"), L.ReLU(6.0, name="relu")])
    bn = model.get_layer("bn")
    bn.set_weights([np.float32([1, 0, 2, 0]), *bn.get_weights()[1:]])
    with pytest.raises(BatchNormError, match="2 null gammas in BatchNormalization 'bn'") as quantizing:
        akq.quantize(model, 4, 4, 8)
    unfolded = akq.quantize(model, 4, 4, 8, fold_BN=False)  # conversion folds it, and refuses it the same way
    with pytest.raises(BatchNormError) as converting:
        akq.convert(unfolded)
    assert str(quantizing.value) == str(converting.value)


def test_layers_that_cannot_be_quantized_give_a_clear_error():
    fused = keras.Sequential([keras.Input((8, 8, 1)), L.Conv2D(4, 3, activation="relu", name="fused")])
    with pytest.raises(QuantizationError, match="'fused'.*activation='relu'.*separate ReLU"):
        akq.quantize(fused, 4, 4)
    dilated = keras.Sequential([keras.Input((8, 8, 1)), L.Conv2D(4, 3, dilation_rate=2, name="dilated")])
    with pytest.raises(QuantizationError, match="'dilated'.*dilation_rate"):
        akq.quantize(dilated, 4, 4)
    leaky = keras.Sequential([keras.Input((4,)), L.Dense(3), L.ReLU(negative_slope=0.1, name="leaky")])
    with pytest.raises(QuantizationError, match="'leaky'.*negative_slope"):
        akq.quantize(leaky, 4, 4)
    with pytest.raises(ModelStructureError, match="expected a Keras model"):
        akq.quantize("model.keras", 4, 4)


@pytest.mark.parametrize("arguments, message", [
    ({"weight_quantization": 1}, "weight_quantization must be 0 .* >= 2, got 1"),
    ({"weight_quantization": -4}, "weight_quantization"),
    ({"weight_quantization": 4.0}, "weight_quantization"),
    ({"activ_quantization": -1}, "activ_quantization must be 0 .* >= 1"),
    ({"weight_quantization": 4, "input_weight_quantization": 1}, "input_weight_quantization"),
])
def test_bitwidths_are_checked(float_model, arguments, message):
    with pytest.raises(QuantizationError, match=message):
        akq.quantize(float_model, **arguments)


def test_quantize_layer_quantizes_one_layer_by_name_or_index(float_model):
    q = akq.quantize_layer(float_model, "sep", 2)
    types = _types(q)
    assert types["sep"] is qlayers.QuantizedSeparableConv2D and q.get_layer("sep").quantizer.bitwidth == 2
    assert types["conv"] is L.Conv2D and types["conv_relu"] is L.ReLU and "conv_bn" in types  # no folding
    index = [layer.name for layer in float_model.layers].index("conv_relu")
    q2 = akq.quantize_layer(float_model, index, 1)
    assert type(q2.get_layer("conv_relu")) is qlayers.QuantizedReLU
    assert q2.get_layer("conv_relu").bitwidth == 1 and q2.get_layer("conv_relu").max_value == 6.0
    for a, b in zip(q.get_layer("sep").get_weights(), float_model.get_layer("sep").get_weights()):
        np.testing.assert_array_equal(a, b)


def test_quantize_layer_requantizes_an_already_quantized_layer(float_model):
    q = akq.quantize(float_model, 4, 4, 8)
    again = akq.quantize_layer(akq.quantize_layer(q, "dense", 2), "conv_relu", 1)
    assert again.get_layer("dense").quantizer == qops.MaxPerAxisQuantizer(bitwidth=2)
    assert again.get_layer("conv").quantizer.bitwidth == 8
    relu = again.get_layer("conv_relu")
    assert relu.bitwidth == 1 and relu.max_value == 6.0


def test_quantize_layer_errors(float_model):
    with pytest.raises(QuantizationError, match="'flatten'.*cannot be quantized"):
        akq.quantize_layer(float_model, "flatten", 4)
    with pytest.raises(QuantizationError, match="no layer named 'nope'"):
        akq.quantize_layer(float_model, "nope", 4)
    with pytest.raises(QuantizationError, match="out of range"):
        akq.quantize_layer(float_model, 99, 4)
    with pytest.raises(QuantizationError, match="bitwidth must be an integer >= 2"):
        akq.quantize_layer(float_model, "dense", 0)


def test_quantized_models_fine_tune():
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 0.3, (256, 8, 8, 1)).astype(np.float32)
    y = rng.integers(0, 2, 256)
    for image, label in zip(x, y):  # a bright bar on the left (class 0) or on the right (class 1)
        image[2:6, 1 + 5 * label] += 0.7
    model = keras.Sequential([keras.Input((8, 8, 1)), L.Conv2D(4, 3, name="conv"), L.BatchNormalization(),
                              L.ReLU(6.0), L.Flatten(), L.Dense(2, name="out")])
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(keras.optimizers.Adam(1e-2), loss, metrics=["accuracy"])
    model.fit(x, y, epochs=5, batch_size=32, verbose=0)
    q = akq.quantize(model, 2, 2, 2)
    q.compile(keras.optimizers.Adam(1e-2), loss, metrics=["accuracy"])
    before = q.evaluate(x, y, verbose=0)
    q.fit(x, y, epochs=5, batch_size=32, verbose=0)
    after = q.evaluate(x, y, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] > 0.95
    assert after[0] < before[0] and after[1] > 0.95, (before, after)


def test_quantized_models_round_trip_through_keras_files(float_model, images, tmp_path):
    q = akq.quantize(float_model, 4, 4, 8)
    q.save(tmp_path / "q.keras")
    loaded = keras.models.load_model(tmp_path / "q.keras")
    assert _types(loaded) == _types(q)
    np.testing.assert_array_equal(loaded(images), q(images))


def test_quantized_models_convert_and_the_engine_follows_keras():
    keras.utils.set_random_seed(4)
    model = keras.Sequential([
        keras.Input((12, 12, 3)),
        L.Conv2D(8, 3, padding="same", name="conv"), L.BatchNormalization(), L.ReLU(6.0),
        L.MaxPool2D(padding="same"),
        L.SeparableConv2D(16, 3, padding="same", name="sep"), L.BatchNormalization(), L.ReLU(6.0),
        L.Flatten(), L.Dense(10, name="out"),
    ])
    _randomize_batchnorms(model, seed=4)
    quantized = akq.quantize(model, 4, 4, 8)
    integer_model = akq.convert(quantized, input_scaling=(255, 0))
    assert [layer.name for layer in integer_model.layers] == ["conv", "sep", "out"]
    assert [layer.parameters.weights_bits for layer in integer_model.layers] == [8, 4, 4]
    x = np.random.default_rng(4).integers(0, 256, (64, 12, 12, 3), dtype=np.uint8)
    keras_logits = np.asarray(quantized(x / np.float32(255)))
    engine_logits = integer_model.predict(x).reshape(64, -1)
    scale = np.abs(keras_logits).max()
    assert np.abs(engine_logits - keras_logits).max() < 0.05 * scale
    assert np.mean(engine_logits.argmax(1) == keras_logits.argmax(1)) >= 0.9
