"""Conversion diagnostics: per-layer potential units per Keras step, clipped scale factors, non-integer
input shift, thresholds and steps beyond the hardware registers."""

import json

import akq
import numpy as np
import pytest
from akq.converter import convert_with_report
from golden_cases import GOLDEN_DIR, all_cases, keras_model

keras = pytest.importorskip("keras")
ql = akq.quantization_layers
qops = akq.quantization_ops
L = keras.layers


def test_units_per_step_match_the_reference_generator():
    """min S*sigma per layer equals the golden generator's 'min_pot_units_per_step' (156 layers)."""
    summary = {c["case"]: c for c in json.loads((GOLDEN_DIR / "summary.json").read_text())["cases"]}
    compared = 0
    for case in all_cases():
        _, report = convert_with_report(keras_model(case), case.input_scaling)
        for entry in summary[case.name].get("teacher_forced", []):
            if "min_pot_units_per_step" in entry:
                ours = report.layers[entry["layer"]].units_per_step_min
                assert ours == pytest.approx(entry["min_pot_units_per_step"], rel=1e-3, abs=1e-3), case.name
                compared += 1
    assert compared == 156


def _model(kernel_value=None, bias=0.0, scale_layer=None, bits=4, final_activation=False):
    layers = [scale_layer] if scale_layer is not None else []
    layers += [ql.QuantizedConv2D(4, 3, padding="same", quantizer=qops.MaxQuantizer(bitwidth=8), name="c"),
               ql.QuantizedReLU(bitwidth=bits, max_value=6.0, name="r"), L.Flatten(),
               ql.QuantizedDense(2, quantizer=qops.MaxPerAxisQuantizer(bitwidth=4), name="d")]
    if final_activation:
        layers.append(ql.QuantizedReLU(bitwidth=4, max_value=6.0, name="r2"))
    model = keras.Sequential([keras.Input((6, 6, 3)), *layers])
    conv = model.get_layer("c")
    w, b = conv.get_weights()
    if kernel_value is not None:
        w = np.full_like(w, kernel_value)
    conv.set_weights([w, np.full_like(b, bias)])
    return model


def test_clipped_scale_factor_is_reported():
    _, report = convert_with_report(_model(kernel_value=1e-6), (255, 0))
    assert report.layers[0].clipped_scale_factors == 1
    assert any("1000 clip" in w and w.startswith("c:") for w in report.warnings)


def test_non_integer_input_shift_is_reported():
    _, report = convert_with_report(_model(scale_layer=L.Rescaling(1 / 127.5, -1)))
    assert any("127.5" in w and "truncation 127" in w for w in report.warnings)


def test_thresholds_beyond_hardware_are_reported():
    _, report = convert_with_report(_model(bias=-500.0), (255, 0))
    assert any("24-bit" in w and "software" in w for w in report.warnings)


def test_low_units_per_step_are_reported():
    """Dense weights of 3.0 (4-bit: sf = 7/3) after a 0.4 step, into a 0.4 step: S*sigma = 2.5*7/3*0.4."""
    model = _model(final_activation=True)
    dense = model.get_layer("d")
    w, b = dense.get_weights()
    dense.set_weights([np.full_like(w, 3.0), b])
    _, report = convert_with_report(model, (255, 0))
    assert report.layers[1].units_per_step_min == pytest.approx(2.5 * 7 / 3 * 0.4, rel=1e-6)
    assert any(w.startswith("d:") and "potential units per Keras activation step" in w for w in report.warnings)


def test_last_layer_units_are_the_potential_scale():
    model = _model()
    dense = model.get_layer("d")
    w, b = dense.get_weights()
    dense.set_weights([np.full_like(w, 3.0), b])
    _, report = convert_with_report(model, (255, 0))
    assert report.layers[1].units_per_step_min == pytest.approx(2.5 * 7 / 3, rel=1e-6)


def test_verbose_prints_the_report(capsys):
    akq.convert(_model(kernel_value=1e-6), input_scaling=(255, 0), verbose=True)
    out = capsys.readouterr().out
    assert "units/step" in out and "c" in out and "1000 clip" in out


def test_quiet_by_default(capsys):
    akq.convert(_model(), input_scaling=(255, 0))
    assert capsys.readouterr().out == ""


def test_dropped_final_activation_is_reported():
    model = keras.Sequential([keras.Input((6, 6, 3)), ql.QuantizedConv2D(4, 3, quantizer=qops.MaxQuantizer(8)),
                              ql.QuantizedReLU(bitwidth=2), L.Flatten(),
                              ql.QuantizedDense(2, quantizer=qops.MaxQuantizer(4), name="d"), L.Softmax(name="sm")])
    _, report = convert_with_report(model, (255, 0))
    assert any(w.startswith("d:") and "'sm' (Softmax) is not converted" in w for w in report.warnings)
