"""Akida 1.0 edge learning of a model's last layer, bit-exact with the akida runtime (docs/learning.md).

`Model.compile(AkidaUnsupervised(...), seed)` draws the last layer's binary weights and adds its
learning variables `threshold_learning` and `thswap`; `Model.fit` then learns from labelled or
unlabelled samples one after the other (the update runs in the C++ core, csrc/akq/engine/learning.cpp),
`Model.predict_classes` reads the classes back and `Model.add_classes` grows the layer.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import _core
from ..errors import InputError, LearningError, LearningStateError
from .inference import Inference

_PLASTICITY = ("initial_plasticity", "learning_competition", "min_plasticity", "plasticity_decay")


class AkidaUnsupervised:
    """The optimizer of the chip's native learning, with the reference's arguments and defaults.

    Each of the `num_classes` classes owns an equal share of the last layer's units, and each unit
    keeps exactly `num_weights` connections. A unit swaps up to its plasticity (`thswap`, starting at
    `initial_plasticity` x num_weights) connections per learning step; plasticity falls by
    `plasticity_decay` of its start per step, down to `min_plasticity`; `learning_competition` caps
    the potential a unit must beat next time (docs/learning.md).
    """

    def __init__(self, num_weights, num_classes=1, initial_plasticity=1.0, learning_competition=0.0,
                 min_plasticity=float(np.float32(0.1)), plasticity_decay=0.25):
        for name, value in (("num_weights", num_weights), ("num_classes", num_classes)):
            if not _is_int(value) or value < 1:
                raise LearningError(f"AkidaUnsupervised: {name} must be a positive int, got {value!r}")
        self.num_weights = int(num_weights)
        self.num_classes = int(num_classes)
        values = (initial_plasticity, learning_competition, min_plasticity, plasticity_decay)
        for name, value in zip(_PLASTICITY, values):
            if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0.0 <= float(value) <= 1.0:
                raise LearningError(f"AkidaUnsupervised: {name} must be a number in [0, 1], got {value!r}")
            setattr(self, name, float(value))

    def _params(self):
        params = _core.LearningParams()
        for name in ("num_weights", "num_classes", *_PLASTICITY):
            setattr(params, name, getattr(self, name))
        return params

    @classmethod
    def _from_params(cls, params) -> "AkidaUnsupervised":
        return cls(params.num_weights, params.num_classes,
                   **{name: getattr(params, name) for name in _PLASTICITY})

    def __eq__(self, other):
        return isinstance(other, AkidaUnsupervised) and vars(self) == vars(other)

    def __repr__(self):
        return "AkidaUnsupervised(" + ", ".join(f"{k}={v!r}" for k, v in vars(self).items()) + ")"


class LearningState:
    """What a compiled model carries besides its variables: the parameters (saved in .akq files) and
    the rule's running counter with the backbone engine (not saved; reset by any change to the model,
    as the reference resets them on set_variable and on loading)."""

    def __init__(self, params):
        self.params = params
        self.reset()

    def reset(self):
        self.counter = 0
        self.backbone = None  # engine of all layers but the last, built on first fit


def compile(model, optimizer, seed=0) -> None:
    """Prepare the last layer of `model` for learning with `optimizer` (an AkidaUnsupervised)."""
    if not isinstance(optimizer, AkidaUnsupervised):
        raise LearningError(f"compile expects an akq.AkidaUnsupervised optimizer, got {type(optimizer).__name__}")
    if model._learning is not None:
        raise LearningStateError("the model is already compiled for learning; build or load a new model to "
                                 "compile it again")
    spec = model.spec
    _core.compile_learning(spec, optimizer._params(), _seed(seed))
    _replace_last(model, spec)
    model._learning = LearningState(spec.learning)


def add_classes(model, num_add_classes, seed=0) -> None:
    """Append `num_add_classes` classes of new units (weights drawn from `seed`) to the learning layer."""
    _compiled(model, "add_classes")
    if not _is_int(num_add_classes):
        raise LearningError(f"add_classes expects an int number of classes, got {num_add_classes!r}")
    spec = model.spec
    _core.add_learning_classes(spec, int(num_add_classes), _seed(seed))
    _replace_last(model, spec)
    model._learning = LearningState(spec.learning)


def fit(model, inputs, input_labels=None, batch_size=0) -> np.ndarray:
    """Learn from `inputs` in order; int32 potentials (N, 1, 1, units) of each before its update.

    `batch_size` is checked and changes nothing: a batch learns exactly as its samples one by one."""
    state = _compiled(model, "fit")
    _batch_size(batch_size)
    if state.backbone is None:
        backbone = _core.ModelSpec()
        backbone.layers = [layer._spec for layer in model._layers[:-1]]
        state.backbone = Inference(backbone, [layer.name for layer in model._layers[:-1]], model.input_shape)
    spikes = state.backbone.forward(inputs)
    labels = _labels(input_labels, spikes.shape[0])
    layer = model._layers[-1]._spec
    potentials, state.counter = _core.fit_last_layer(layer, state.params, spikes, labels, state.counter)
    model._invalidate(keep_learning=True)
    return potentials


def predict_classes(model, inputs, num_classes=0, batch_size=0) -> np.ndarray:
    """Class of each input: its best unit (by predict, or forward with an activation) // units per class.

    num_classes=0 takes every unit as its own class, as the reference does."""
    _batch_size(batch_size)
    units = int(np.prod(model.output_shape)) if model._layers else 0
    if not _is_int(num_classes) or not 0 <= num_classes <= units:
        raise InputError(f"predict_classes: num_classes must be an int in [0, {units}] (0: one class per unit), "
                         f"got {num_classes!r}")
    outputs = model.forward(inputs) if model._engine().last_has_activation else model.predict(inputs)
    best = outputs.reshape(len(outputs), units).argmax(axis=1)  # (0, units) for an empty batch
    return best // (units // (num_classes or units))


def _compiled(model, what) -> LearningState:
    if model._learning is None:
        raise LearningStateError(f"{what}: the model is not compiled for learning; call "
                                 "model.compile(akq.AkidaUnsupervised(num_weights, num_classes)) first")
    return model._learning


def _replace_last(model, spec) -> None:
    """Put the last layer of `spec` (compiled or grown in C++) in place of the model's."""
    model._layers[-1]._spec = spec.layers[-1]
    model._invalidate()


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _seed(seed) -> int:
    if not _is_int(seed) or not 0 <= seed < 2**64:
        raise LearningError(f"seed must be an int in [0, 2**64), got {seed!r}")
    return int(seed)


def _batch_size(batch_size) -> int:
    if not _is_int(batch_size) or batch_size < 0:
        raise InputError(f"batch_size must be an int >= 0 (0: all inputs at once), got {batch_size!r}")
    return int(batch_size)


def _labels(input_labels, count) -> list[int]:
    """One label per input, one for all, or none (unlabelled); negative labels are unlabelled."""
    if input_labels is None:
        return []
    labels = np.asarray(input_labels).reshape(-1)
    integral = np.issubdtype(labels.dtype, np.integer) or (
        np.issubdtype(labels.dtype, np.floating) and bool(np.all(np.isfinite(labels) & (labels == np.round(labels)))))
    if labels.dtype == bool or not integral:
        raise InputError(f"fit: labels must be integers (class indices), got {input_labels!r}")
    if labels.size not in (0, 1, count):
        raise InputError(f"fit: {labels.size} labels for {count} inputs; give one per input, one for all or none")
    if labels.size and (labels.min() < -2**31 or labels.max() >= 2**31):
        raise InputError("fit: labels must fit in int32")
    return [int(v) for v in labels]


__all__ = ["AkidaUnsupervised", "LearningState", "compile", "add_classes", "fit", "predict_classes"]
