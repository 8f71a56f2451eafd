"""The programming ranges of the AKD1000 (docs/spec D.4) against the reference mapper, akida 2.4.0.

One rule (csrc/akq/device/ranges.hpp) decides which thresholds and steps a layer programs and on how many
bits, for map() and for the conversion report. For each layer type, with and without activation, a value
just outside a range must be refused by akq exactly when the reference refuses it, with the same kind of
error ("mapping" or "programming") and the same reason; an InputConvolutional layer without activation is
refused for that alone (the HRC cannot run it, so none of its values is ever programmed).
"""

import akq
import numpy as np
import pytest
from akq import _core
from akq.errors import HardwareError

akida = pytest.importorskip("akida", reason="the reference comparison needs akida 2.4.0")

KINDS = ["input_conv", "conv", "separable", "dense"]
VALUES = [("threshold", 2**19), ("threshold", 2**23), ("act_step", 2.0**16), ("act_step", 2.0**20)]
SHAPE = {"conv": (16, 16, 8), "separable": (16, 16, 8), "dense": (1, 1, 64)}


def akq_model(kind, activation):
    common = {"name": "x", "weights_bits": 4, "activation": activation, "act_bits": 4}
    if kind == "input_conv":
        return akq.Model([akq.InputConvolutional((16, 16, 3), 3, 8, **common)])
    layer = {"conv": lambda: akq.Convolutional(3, 8, **common),
             "separable": lambda: akq.SeparableConvolutional(3, 8, **common),
             "dense": lambda: akq.FullyConnected(8, **common)}[kind]()
    return akq.Model([akq.InputData(SHAPE[kind], name="in"), layer])


def akida_model(kind, activation):
    common = {"name": "x", "weights_bits": 4, "activation": activation, "act_bits": 4}
    model = akida.Model()
    if kind == "input_conv":
        model.add(akida.InputConvolutional(input_shape=(16, 16, 3), kernel_size=(3, 3), filters=8, **common))
        return model
    model.add(akida.InputData(input_shape=SHAPE[kind], input_bits=4, name="in"))
    model.add({"conv": lambda: akida.Convolutional(kernel_size=(3, 3), filters=8, **common),
               "separable": lambda: akida.SeparableConvolutional(kernel_size=(3, 3), filters=8, **common),
               "dense": lambda: akida.FullyConnected(units=8, **common)}[kind]())
    return model


def set_values(layer, names, variable, value):
    """Non-zero weights (the reference refuses all-zero ones) and `variable` set to `value`."""
    for name in ("weights", "weights_pw", variable):
        if name in names:
            current = layer.get_variable(name)
            layer.set_variable(name, np.full(current.shape, value if name == variable else 1, current.dtype))


def first_refusal(map_call):
    """'' if the model maps on hardware only, else the refusal up to the reason's first clause."""
    try:
        map_call()
    except (RuntimeError, HardwareError) as error:
        message = str(error)
        return message.split(" (")[0].split(". Fix:")[0].split(". Likely cause:")[0]
    return ""


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("activation", [True, False])
def test_refused_exactly_when_the_reference_refuses(kind, activation):
    for variable, value in VALUES:
        theirs, ours = akida_model(kind, activation), akq_model(kind, activation)
        set_values(theirs.layers[-1], theirs.layers[-1].variables.names, variable, value)
        set_values(ours.layers[-1], ours.layers[-1].variables, variable, value)
        expected = first_refusal(lambda: theirs.map(akida.AKD1000(), hw_only=True))
        assert first_refusal(lambda: ours.map(akq.AKD1000(), hw_only=True)) == expected, (variable, value)
        report = _core.fire_range_report(ours.spec.layers[-1])
        out_of_range = report.thresholds_out_of_range + report.steps_out_of_range
        assert (out_of_range > 0) == ("cannot fit" in expected or "act_step should be" in expected), \
            (variable, value, expected)
