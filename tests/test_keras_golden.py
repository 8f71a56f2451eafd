"""akq's Keras layers reproduce the reference's Keras outputs on every golden case.

For each case the quantized model is rebuilt from model.json with akq layers (golden_cases.keras_model),
run once on `keras_input`, and compared with the reference's `keras_output` (float tolerance) and with
the integer levels of every quantized activation layer (`keras_act/<name>` / step).
"""

import keras
import numpy as np
import pytest

from akq import quantization_layers as ql
from golden_cases import all_cases, keras_model

MIN_LEVEL_AGREEMENT = 0.999


@pytest.mark.parametrize("case", all_cases(), ids=str)
def test_keras_model_matches_reference(case):
    model = keras_model(case)
    activations = [layer for layer in model.layers if isinstance(layer, ql.QuantizedActivation)]
    outputs = {"output": model.outputs[0], **{layer.name: layer.output for layer in activations}}
    probe = keras.Model(model.inputs[0], outputs)
    outputs = probe(case.data["keras_input"], training=False)

    np.testing.assert_allclose(np.asarray(outputs["output"]), case.data["keras_output"], rtol=1e-3, atol=1e-4)
    for layer in activations:
        levels = np.asarray(outputs[layer.name]) / layer.step
        reference = case.data[f"keras_act/{layer.name}"] / layer.step
        np.testing.assert_allclose(levels, np.round(levels), atol=1e-3)  # outputs are multiples of the step
        agreement = np.mean(np.round(levels) == np.round(reference))
        assert agreement >= MIN_LEVEL_AGREEMENT, f"{layer.name}: {agreement:.4%} of levels agree"
