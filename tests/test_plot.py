"""akq.plot: discretized-weight figure, per-layer weight statistics (numbers, text, PNG)."""

import keras
import numpy as np
import pytest

from akq import plot
from akq import quantization_layers as ql
from akq import quantization_ops as qops
from akq.errors import QuantizationError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def known_model():
    model = keras.Sequential([
        keras.Input((4, 4, 2)),
        ql.QuantizedSeparableConv2D(3, 3, quantizer=qops.MaxQuantizer(bitwidth=2),
                                    quantizer_dw=qops.MaxQuantizer(bitwidth=8), use_bias=False, name="sep"),
        keras.layers.Flatten(),
        ql.QuantizedDense(3, quantizer=qops.MaxPerAxisQuantizer(bitwidth=4), use_bias=False, name="fc"),
    ])
    model.get_layer("sep").set_weights([
        np.arange(18, dtype=np.float32).reshape(3, 3, 2, 1) - 9,  # -9..8: sf = 127/9, ints rne(k*127/9)
        np.float32([[[[1, -1, 0.2], [0.3, 0, -0.6]]]]),  # max 1: sf = 1, ints rne: 1,-1,0,0,0,-1
    ])
    fc = np.zeros((12, 3), np.float32)  # separable output 2x2x3, flattened
    fc[:2] = [[0.5, -2.0, 0.0], [-0.25, 1.0, 0.0]]
    model.get_layer("fc").set_weights([fc])
    return model


def test_weight_stats_numbers():
    dw, pw, fc = plot.weight_stats(known_model())
    assert (dw.layer, dw.kernel, dw.bitwidth, dw.shape) == ("sep", "depthwise_kernel", 8, (3, 3, 2, 1))
    assert (pw.kernel, fc.layer, fc.kernel) == ("pointwise_kernel", "fc", "kernel")

    np.testing.assert_allclose(dw.scale_factors, [127 / 9], rtol=1e-6)
    expected_dw = np.round((np.arange(18) - 9) * np.float32(127 / 9))
    np.testing.assert_array_equal(dw.int_weights.ravel(), expected_dw)
    assert dw.levels_used == 18 and dw.levels_available == 255
    assert dw.saturated_fraction == 1 / 18  # -9 -> -127

    np.testing.assert_array_equal(pw.int_weights.ravel(), [1, -1, 0, 0, 0, -1])
    assert pw.levels_used == 3 and pw.levels_available == 3 and pw.zero_fraction == 0.5

    # per-axis: sf = 7/0.5, 7/2, and 1000 for the all-zero channel; ints [[7,-7,0],[rne(-3.5)=-4, 4, 0], 0...]
    np.testing.assert_array_equal(fc.scale_factors, np.float32([14, 3.5, 1000]))
    np.testing.assert_array_equal(fc.int_weights[:2], [[7, -7, 0], [-4, 4, 0]])
    assert fc.levels_used == 5 and fc.levels_available == 15
    assert fc.zero_fraction == pytest.approx(32 / 36) and fc.saturated_fraction == pytest.approx(2 / 36)
    row = fc.row()
    assert row["levels"] == "5/15" and row["sf_min"] == 3.5 and row["sf_max"] == 1000 and row["bits"] == 4


def test_format_weight_stats():
    text = plot.format_weight_stats(plot.weight_stats(known_model()))
    lines = text.splitlines()
    assert len(lines) == 5 and lines[0].split()[:3] == ["layer", "kernel", "shape"]
    assert lines[4].split()[:6] == ["fc", "kernel", "12x3", "MaxPerAxisQuantizer", "4", "3.5"]
    assert "5/15" in lines[4] and "18/255" in lines[2]
    assert plot.format_weight_stats([]) == "no quantized layers"


def test_plot_weight_stats_png(tmp_path):
    path = plot.plot_weight_stats(known_model(), tmp_path / "sub" / "stats.png")
    assert path == tmp_path / "sub" / "stats.png"
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 10_000
    with pytest.raises(QuantizationError, match="no quantized layers"):
        float_model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        plot.plot_weight_stats(float_model, tmp_path / "x.png")


def test_plot_discretized_weights_png(tmp_path):
    w = np.random.default_rng(0).uniform(-0.07, 0.07, (100, 10)).astype(np.float32)
    w[:5] = 0.5
    wq = qops.MaxQuantizer(bitwidth=4).quantize(w).numpy()
    path = plot.plot_discretized_weights(w, wq, tmp_path / "w.png", xlim=(-0.095, 0.53), title="max")
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 10_000
    assert plot.plot_discretized_weights(w, w, str(tmp_path / "same.png")).exists()
