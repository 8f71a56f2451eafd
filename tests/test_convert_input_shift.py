"""An input_scaling shift on an image model: Keras pads the float input with 0, which is the integer
input `shift`, and the InputConvolutional pads with padding_value mod 256 (docs/spec C.3). Conversion
is exact when the shift is a byte or the layer pads nothing, and refused otherwise (issue 13)."""

import itertools

import akq
import numpy as np
import pytest
from akq.errors import InputScalingError

keras = pytest.importorskip("keras")
ql = akq.quantization_layers
qops = akq.quantization_ops

GEOMETRIES = [(k, s, p) for k, s, p in itertools.product((1, 3, 5), (1, 2, 3), ("same", "valid")) if s <= k]
SHIFTS = (-100, -1, 0, 100, 255, 256, 300)


def _model(kernel, stride, padding):
    model = keras.Sequential([
        keras.Input((9, 8, 1)),
        ql.QuantizedConv2D(4, kernel, strides=stride, padding=padding, name="conv",
                           quantizer=qops.MaxPerAxisQuantizer(bitwidth=8)),
        ql.QuantizedReLU(bitwidth=4, max_value=6.0, name="relu")])
    rng = np.random.default_rng(kernel * 10 + stride)
    conv = model.get_layer("conv")
    conv.set_weights([rng.normal(0, 1, w.shape).astype(np.float32) for w in conv.get_weights()])
    return model


def _pads(kernel, stride, padding, shape=(9, 8)) -> bool:
    return padding == "same" and any((-(-d // stride) - 1) * stride + kernel > d for d in shape)


@pytest.mark.parametrize("kernel, stride, padding", GEOMETRIES)
def test_converted_first_layer_matches_keras_or_is_refused(kernel, stride, padding):
    model = _model(kernel, stride, padding)
    x = np.random.default_rng(1).integers(0, 256, (8, 9, 8, 1)).astype(np.uint8)
    step = model.get_layer("relu").step
    for shift in SHIFTS:
        if _pads(kernel, stride, padding) and not 0 <= shift <= 255:
            refusal = r"'conv \+ relu'.*pads the 8-bit input with a byte.*\[0, 255\]"
            with pytest.raises(InputScalingError, match=refusal):
                akq.convert(model, input_scaling=(255, shift))
            continue
        ours = akq.convert(model, input_scaling=(255, shift)).forward(x)
        expected = np.round(np.asarray(model((x.astype(np.float32) - shift) / 255)) / step)
        # a level may differ where Keras' float32 potential sits on a level boundary: never on a border
        assert np.sum(ours != expected) <= max(1, ours.size // 1000), (shift, np.argwhere(ours != expected)[:5])
