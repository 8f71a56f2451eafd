"""The public face of conversion: akq.convert's arguments, file_path, and that import stays lazy."""

import subprocess
import sys

import akq
import numpy as np
import pytest

keras = pytest.importorskip("keras")
ql = akq.quantization_layers
qops = akq.quantization_ops


def small_model():
    return keras.Sequential([
        keras.Input((8, 8, 3)),
        keras.layers.Rescaling(1 / 255),
        ql.QuantizedConv2D(4, 3, padding="same", quantizer=qops.MaxPerAxisQuantizer(bitwidth=8), name="c"),
        ql.QuantizedReLU(bitwidth=2, max_value=2.0),
        keras.layers.Flatten(),
        ql.QuantizedDense(3, quantizer=qops.MaxPerAxisQuantizer(bitwidth=4), name="d"),
    ])


def test_file_path_saves_the_converted_model(tmp_path):
    path = tmp_path / "small.akq"
    converted = akq.convert(small_model(), file_path=str(path))
    loaded = akq.load_model(str(path))
    assert [l.name for l in loaded.layers] == [l.name for l in converted.layers]
    x = np.random.default_rng(0).integers(0, 256, (4, 8, 8, 3)).astype(np.uint8)
    np.testing.assert_array_equal(loaded.forward(x), converted.forward(x))


def test_convert_does_not_change_the_keras_model():
    model = small_model()
    before = [w.copy() for w in model.get_weights()]
    akq.convert(model)
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_rescaling_gives_the_input_scaling():
    """Rescaling(1/255) is input_scaling (255, 0): same model either way."""
    with_layer = small_model()
    without = keras.Sequential([keras.Input((8, 8, 3)), *with_layer.layers[1:]])
    a, b = akq.convert(with_layer), akq.convert(without, input_scaling=(255, 0))
    for la, lb in zip(a.layers, b.layers):
        for name in la.variables:
            np.testing.assert_array_equal(la.get_variable(name), lb.get_variable(name))


@pytest.mark.parametrize("kind", ["conv", "separable", "dense"])
def test_input_shift_is_applied_to_an_input_data_model(kind):
    """akq folds the shift s of an InputData model into the first thresholds (the reference ignores it):
    the potential of x_int = 2 x + 3 exceeds that of 2 x by 3 * (the layer's response to all-ones)."""
    rng = np.random.default_rng(1)
    quantizer = qops.MaxPerAxisQuantizer(bitwidth=4)
    first = {"conv": lambda: ql.QuantizedConv2D(3, 3, quantizer=quantizer, name="n"),
             "separable": lambda: ql.QuantizedSeparableConv2D(3, 3, quantizer=quantizer, name="n"),
             "dense": lambda: ql.QuantizedDense(3, quantizer=quantizer, name="n")}[kind]

    def model():
        layers = [keras.layers.Flatten()] if kind == "dense" else []
        m = keras.Sequential([keras.Input((6, 6, 4)), *layers, first(), ql.QuantizedReLU(bitwidth=4, max_value=6.0)])
        m.get_layer("n").set_weights([rng.normal(0, 1, w.shape).astype(np.float32) for w in m.get_layer("n").weights])
        return m

    keras_model = model()
    weights = keras_model.get_weights()
    shifted_model = model()
    shifted_model.set_weights(weights)
    plain = akq.convert(keras_model, input_scaling=(2, 0)).layers[1]
    shifted = akq.convert(shifted_model, input_scaling=(2, 3)).layers[1]
    ones = np.ones((1, 3, 3, 4)) if kind != "dense" else np.ones((1, 144))
    if kind == "conv":
        response = np.einsum("nabc,abcf->f", ones, plain.get_variable("weights")[::-1, ::-1])
    elif kind == "separable":
        depthwise = np.einsum("nabc,abc->c", ones, plain.get_variable("weights")[::-1, ::-1, :, 0])
        response = depthwise @ plain.get_variable("weights_pw")[0, 0]
    else:
        response = ones[0] @ plain.get_variable("weights")[0, 0]
    np.testing.assert_array_equal(shifted.get_variable("threshold") - plain.get_variable("threshold"),
                                  3 * response.astype(np.int64))


def test_import_akq_does_not_import_tensorflow():
    code = "import akq, sys; akq.Model; assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
