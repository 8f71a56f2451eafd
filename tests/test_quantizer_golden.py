"""akq's weight quantizers give the reference's integer weights, bit for bit, on the golden cases.

Only kernels that reach conversion unchanged can be compared: a neural layer with no BatchNormalization
in its block (BN is folded into the kernel before quantizing, docs/spec F.4.7). Their akida weights are
`clip(rne(w * sf), -kmax, kmax)` in the layouts of docs/spec B.5, so this checks the scale factors (including
the Std quantizers' float32 reduce_std) and the rounding against the reference's own conversion.
"""

import numpy as np
import pytest
import tensorflow as tf

from golden_cases import _quantizer, all_cases

NEURAL = ("QuantizedConv2D", "QuantizedSeparableConv2D", "QuantizedDense")


def unfolded_kernels(case):
    """(akida layer index, keras layer desc) of neural layers whose block has no BatchNormalization."""
    descs = case.model_json["layers"]
    neural = [i for i, d in enumerate(descs) if d["class"] in NEURAL]
    offset = 1 if case.akida_layers[0]["type"] == "InputData" else 0
    for rank, start in enumerate(neural):
        end = neural[rank + 1] if rank + 1 < len(neural) else len(descs)
        if not any(d["class"] == "BatchNormalization" for d in descs[start:end]):
            yield rank + offset, descs[start]


def int_weights(quantizer_desc, kernel):
    quantizer = _quantizer(quantizer_desc)
    w = tf.constant(kernel)
    return np.round(quantizer.quantize(w).numpy() * quantizer.scale_factor(w).numpy()).astype(np.int8)


def expected_akida_weights(case, index, desc):
    """{variable name: int8 array} in the akida layout (docs/spec B.5)."""
    weights = case.keras_weights
    akida = case.akida_layers[index]
    if desc["class"] == "QuantizedSeparableConv2D":
        dw, pw = (weights[key] for key in desc["weights"][:2])
        return {"weights": int_weights(desc["quantizer_dw"], dw)[::-1, ::-1],
                "weights_pw": int_weights(desc["quantizer"], pw)}
    w_int = int_weights(desc["quantizer"], weights[desc["weights"][0]])
    if akida["type"] == "Convolutional":
        w_int = w_int[::-1, ::-1]
    elif akida["type"] == "FullyConnected":
        d0, d1, c = akida["input_dims"]
        w_int = w_int.reshape(d0, d1, c, -1).transpose(2, 1, 0, 3).reshape(1, 1, d0 * d1 * c, -1)
    return {"weights": w_int}


CHECKED = [(case, index, desc) for case in all_cases() for index, desc in unfolded_kernels(case)]


def test_enough_layers_are_checked():
    quantizers = {desc["quantizer"]["class"] for _, _, desc in CHECKED}
    assert len(CHECKED) >= 40 and quantizers == {"MaxQuantizer", "MaxPerAxisQuantizer", "StdWeightQuantizer",
                                                 "StdPerAxisQuantizer"}


@pytest.mark.parametrize("case, index, desc", CHECKED, ids=[f"{c}-{d['name']}" for c, _, d in CHECKED])
def test_integer_weights_match_reference(case, index, desc):
    reference = case.variables(index)
    for name, expected in expected_akida_weights(case, index, desc).items():
        np.testing.assert_array_equal(expected, reference[name], err_msg=f"{desc['name']} {name}")
