"""add_gamma_constraint: BatchNormalization gammas stay >= 1e-2 in a copy of the model."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from akq import quantization_layers as ql
from akq.errors import ArgumentError
from akq import quantization_ops as qops
from akq.gamma_constraint import GAMMA_MIN, MinValueConstraint, add_gamma_constraint


def bn_model(conv):
    return keras.Sequential([keras.Input((6, 6, 1)), conv, keras.layers.BatchNormalization(),
                             keras.layers.ReLU(), keras.layers.Flatten(), keras.layers.Dense(2),
                             keras.layers.BatchNormalization()])


def batch_norms(model):
    return [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]


def test_copy_has_constraint_and_same_weights():
    model = bn_model(keras.layers.Conv2D(3, 3))
    x = np.random.default_rng(0).normal(size=(4, 6, 6, 1)).astype(np.float32)
    constrained = add_gamma_constraint(model)
    assert constrained is not model
    assert all(bn.gamma_constraint is None for bn in batch_norms(model))  # the original is untouched
    for bn in batch_norms(constrained):
        assert isinstance(bn.gamma_constraint, MinValueConstraint)
        assert bn.gamma_constraint.min_value == GAMMA_MIN
    for a, b in zip(model.get_weights(), constrained.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(constrained(x, training=False).numpy(), model(x, training=False).numpy())


def min_gamma_after_one_step(model):
    for bn in batch_norms(model):
        bn.gamma.assign(np.full(bn.gamma.shape, 1e-4, np.float32))
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    x = np.random.default_rng(1).normal(size=(16, 6, 6, 1)).astype(np.float32)
    model.fit(x, np.zeros((16, 2), np.float32), epochs=1, batch_size=16, verbose=0)
    return min(bn.gamma.numpy().min() for bn in batch_norms(model))


def test_training_keeps_gammas_above_the_minimum():
    keras.utils.set_random_seed(0)
    assert min_gamma_after_one_step(bn_model(keras.layers.Conv2D(3, 3))) < GAMMA_MIN  # without the constraint
    keras.utils.set_random_seed(0)
    constrained = add_gamma_constraint(bn_model(keras.layers.Conv2D(3, 3)))
    assert min_gamma_after_one_step(constrained) >= np.float32(GAMMA_MIN)


def test_constraint_values():
    w = tf.constant([-1.0, 0.0, 0.005, 0.01, 0.5])
    np.testing.assert_array_equal(MinValueConstraint()(w).numpy(), np.float32([0.01, 0.01, 0.01, 0.01, 0.5]))


class HalfMaxQuantizer(qops.LinearWeightQuantizer):
    """An unregistered user quantizer."""

    def scale_factor(self, w):
        return self.kmax_ / (0.5 * tf.reduce_max(tf.abs(w)))


def test_quantized_model_with_user_quantizer_and_save_load(tmp_path):
    model = bn_model(ql.QuantizedConv2D(3, 3, quantizer=HalfMaxQuantizer(bitwidth=4)))
    constrained = add_gamma_constraint(model)
    assert isinstance(constrained.layers[0].quantizer, HalfMaxQuantizer)
    x = np.random.default_rng(2).normal(size=(2, 6, 6, 1)).astype(np.float32)
    np.testing.assert_array_equal(constrained(x, training=False).numpy(), model(x, training=False).numpy())

    registered = add_gamma_constraint(bn_model(ql.QuantizedConv2D(3, 3, quantizer=qops.MaxQuantizer(4))))
    registered.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert all(isinstance(bn.gamma_constraint, MinValueConstraint) for bn in batch_norms(loaded))


def test_subclassed_model_is_refused():
    class Custom(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    model = Custom()
    model(np.zeros((1, 3), np.float32))
    with pytest.raises(ArgumentError, match="Sequential or functional"):
        add_gamma_constraint(model)
