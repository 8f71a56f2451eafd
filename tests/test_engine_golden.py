"""The engine against the reference's outputs on every golden case, on every SIMD level (docs/spec C, F.1)."""

import numpy as np
import pytest

import engine_helpers
from golden_cases import akida_model, all_cases

simd_level = engine_helpers.simd_level  # fixture: the test runs on every SIMD level


def assert_identical(got, expected):
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got.view(np.int32) if got.dtype == np.float32 else got,
                                  expected.view(np.int32) if expected.dtype == np.float32 else expected)


@pytest.mark.parametrize("case", all_cases(), ids=str)
def test_forward_and_predict_are_bit_identical(case, simd_level):
    model = akida_model(case)
    inputs = case.data["inputs"]
    for threads in (1, 2):
        assert_identical(model.forward(inputs, threads=threads), case.data["akida_forward"])
    # One sample on two threads: its large layers are shared by the threads.
    alone = np.concatenate([model.forward(inputs[i:i + 1], threads=2) for i in range(len(inputs))])
    assert_identical(alone, case.data["akida_forward"])
    if "akida_predict" in case.data:
        assert_identical(model.predict(inputs), case.data["akida_predict"])  # float32 bits, not a tolerance


@pytest.mark.parametrize("case", all_cases(), ids=str)
def test_every_truncated_model_gives_the_layer_outputs(case, simd_level):
    inputs = case.data["inputs"]
    for i, desc in enumerate(case.akida_layers):
        if desc["type"] == "InputData":
            continue  # the reference stores no output for a bare input layer
        assert_identical(akida_model(case, upto=i).forward(inputs), case.data[f"ak_out/{i}"])
