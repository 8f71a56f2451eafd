"""The seed tutorial's code (tests/seed_tutorial.py) runs on akq, and what it says holds."""

import runpy
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from akq import quantization_layers as ql
from akq.gamma_constraint import MinValueConstraint

SCRIPT = Path(__file__).parent / "seed_tutorial.py"


@pytest.fixture(scope="module")
def tutorial(tmp_path_factory):
    figures = tmp_path_factory.mktemp("seed_figures")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AKQ_SEED_FIGURES", str(figures))
        patch.setenv("MPLBACKEND", "Agg")
        keras.utils.set_random_seed(0)
        namespace = runpy.run_path(str(SCRIPT), run_name="seed_tutorial")
    return namespace, figures


def small_weight_levels(quantizer, w):
    """Distinct discretized values of the weights that are not the 0.5 outliers (rows 5 and up)."""
    return np.unique(quantizer.quantize(tf.constant(w)).numpy()[5:])


def test_models_are_built(tutorial):
    ns, _ = tutorial
    quantized = ns["model_quantized"]
    assert [type(layer) for layer in quantized.layers][::3] == [ql.QuantizedConv2D, ql.QuantizedReLU,
                                                                keras.layers.Softmax]
    assert [layer.name for layer in quantized.layers] == ns["names"]
    x = np.random.default_rng(0).uniform(size=(2, 28, 28, 1)).astype(np.float32)
    np.testing.assert_allclose(quantized(x).numpy().sum(axis=1), 1, rtol=1e-5)


def test_max_quantizer_keeps_outliers_and_uses_3_values_for_small_weights(tutorial):
    ns, _ = tutorial
    w, quantizer = ns["w"], ns["quantizer"]
    assert np.all(quantizer.quantize(tf.constant(w)).numpy()[:5] == 0.5)
    assert len(small_weight_levels(quantizer, w)) == 3


def test_std_quantizer_uses_many_more_values(tutorial):
    # The tutorial says "about 13-14". With its model the Dense kernel is glorot-uniform in +-0.066 and the
    # outliers make 2*std ~ 0.098, so the small weights span +-4.8 steps: 11 levels (12 with the clipped
    # outliers), whatever the implementation. Check the count against a numpy reference of the formula.
    ns, _ = tutorial
    w = ns["w"]
    sf = 7 / (2 * np.std(w.astype(np.float64)))
    expected = len(np.unique(np.round(w[5:] * sf)))
    levels = small_weight_levels(ns["quantizer_std"], w)
    assert len(levels) == expected and len(levels) >= 11
    np.testing.assert_array_equal(ns["wq"], ns["quantizer_std"].quantize(tf.constant(w)).numpy())
    assert ns["wq"][:5].max() < 0.5  # the outliers are clipped


def test_figures_written(tutorial):
    _, figures = tutorial
    pngs = sorted(figures.glob("*.png"))
    assert len(pngs) == 2 and all(p.stat().st_size > 10_000 for p in pngs)
    assert pngs[0].read_bytes() != pngs[1].read_bytes()


def test_gamma_constraint_applied(tutorial):
    ns, _ = tutorial
    bns = [layer for layer in ns["model_keras_with_gamma_constraint"].layers
           if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(bns) == 1 and isinstance(bns[0].gamma_constraint, MinValueConstraint)
