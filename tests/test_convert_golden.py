"""akq.convert reproduces the reference converter on every golden case: same layers, same parameters,
bit-identical variables (weights, weights_pw, threshold, act_step: values, dtypes and shapes)."""

import numpy as np
import pytest
from golden_cases import all_cases, keras_model

CASES = all_cases()
POOL_NAMES = {"NoPooling": "none", "Max": "max", "Average": "average"}


@pytest.fixture(scope="module")
def converted():
    """Each case converted once: {case name: akq.Model}."""
    import akq

    return {case.name: akq.convert(keras_model(case), input_scaling=case.input_scaling) for case in CASES}


def _parameters(layer) -> dict:
    """The layer's parameters in akida.json's vocabulary."""
    p = layer.parameters
    kind = layer._spec.type.name
    out = {"type": kind, "name": layer.name, "input_dims": list(layer.input_dims),
           "output_dims": list(layer.output_dims)}
    if kind in ("InputData", "InputConvolutional"):
        out["input_shape"] = list(p.input_shape)
    if kind == "InputData":
        out["input_bits"] = p.input_bits
        return out
    out.update(weights_bits=p.weights_bits, activation=p.activation, act_bits=p.act_bits)
    if kind == "FullyConnected":
        out["units"] = p.units
        return out
    out.update(kernel_size=list(p.kernel_size), filters=p.filters, stride=list(p.kernel_stride),
               padding=p.padding.name.lower(), pool_type=POOL_NAMES[p.pool_type.name])
    if out["pool_type"] == "max":
        out.update(pool_size=list(p.pool_size), pool_stride=list(p.pool_stride))
    if kind == "InputConvolutional":
        out["padding_value"] = p.padding_value
    return out


@pytest.mark.parametrize("case", CASES, ids=str)
def test_layers_and_parameters_match_reference(case, converted):
    model = converted[case.name]
    expected = [dict(desc) for desc in case.akida_layers]
    if expected[0]["type"] == "InputData":  # named after the Keras model, which the reference called sequential_<n>
        expected[0]["name"] = f"golden_{case.name}_input"
    assert [_parameters(layer) for layer in model.layers] == expected


@pytest.mark.parametrize("case", CASES, ids=str)
def test_variables_bit_identical(case, converted):
    model = converted[case.name]
    compared = 0
    for index, layer in enumerate(model.layers):
        expected = case.variables(index)
        assert sorted(expected) == sorted(layer.variables)
        for name, reference in expected.items():
            ours = layer.get_variable(name)
            assert ours.dtype == reference.dtype, (index, name)
            assert ours.shape == reference.shape, (index, name)
            np.testing.assert_array_equal(ours, reference, err_msg=f"layer {index} {name}")
            compared += 1
    assert compared > 0


def test_every_case_and_variable_is_compared(converted):
    """All 60 cases convert and together hold the reference's 613 variables."""
    variables = sum(len(case.variables(i)) for case in CASES for i in range(len(case.akida_layers)))
    assert len(converted) == len(CASES) == 60
    assert variables == 613


@pytest.mark.parametrize("case", CASES, ids=str)
def test_converted_model_runs_like_the_reference(case, converted):
    """End to end: akq.convert + the akq engine give the reference's forward (and predict) outputs."""
    model = converted[case.name]
    np.testing.assert_array_equal(model.forward(case.data["inputs"]), case.data["akida_forward"])
    if "akida_predict" in case.data:
        np.testing.assert_array_equal(model.predict(case.data["inputs"]), case.data["akida_predict"])
