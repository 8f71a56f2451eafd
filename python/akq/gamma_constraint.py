"""Keep BatchNormalization gammas away from zero so folded kernels do not get huge scale factors.

A tiny gamma makes the folded kernel tiny, hence its scale factor huge, and the Akida thresholds and
steps derived from it may then not fit the chip's 20-bit registers (docs/spec D.4). Training with
`add_gamma_constraint(model)` keeps every gamma >= 1e-2.
"""

from __future__ import annotations

import keras
from keras import ops

#: Lower bound put on BatchNormalization gammas.
GAMMA_MIN = 1e-2


@keras.saving.register_keras_serializable(package="akq")
class MinValueConstraint(keras.constraints.Constraint):
    """Clips a weight from below: w -> max(w, min_value)."""

    def __init__(self, min_value: float = GAMMA_MIN):
        self.min_value = float(min_value)

    def __call__(self, w):
        return ops.maximum(w, ops.cast(self.min_value, w.dtype))

    def get_config(self) -> dict:
        return {"min_value": self.min_value}


def _clone_layer(layer):
    """A fresh layer with the same config; BatchNormalization gets the gamma constraint."""
    config = layer.get_config()
    if isinstance(layer, keras.layers.BatchNormalization):
        config["gamma_constraint"] = MinValueConstraint(GAMMA_MIN)
    # pass live quantizers, so user-defined (unregistered) quantizers survive the copy
    for attribute in ("quantizer", "quantizer_dw"):
        if attribute in config:
            config[attribute] = getattr(layer, attribute)
    return type(layer).from_config(config)


def add_gamma_constraint(model: keras.Model) -> keras.Model:
    """A copy of `model` whose BatchNormalization gammas are constrained to >= 1e-2 during training.

    The weights are copied unchanged (the constraint applies at the next optimizer step); the original
    model is not modified. Works on Sequential and functional models, float or quantized.
    """
    try:
        clone = keras.models.clone_model(model, clone_function=_clone_layer)
    except ValueError as error:
        raise TypeError(f"add_gamma_constraint: cannot copy model '{model.name}' ({error}). "
                        "Use a Sequential or functional Keras model.") from error
    clone.set_weights(model.get_weights())
    return clone
