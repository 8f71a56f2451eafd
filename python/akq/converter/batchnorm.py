"""The rules for folding a BatchNormalization into the neural layer before it (docs/spec B.2), shared by
`akq.quantize(fold_BN=True)` and `akq.convert`: one refusal, one error class, for both."""

from __future__ import annotations

import numpy as np

from .. import _core
from ..errors import BatchNormError
from .nodes import BatchNormNode
from .problems import Problems


def batchnorm_scale(bn: BatchNormNode, target: str, problems: Problems) -> np.ndarray | None:
    """g = gamma / sqrt(variance + epsilon) per channel (float32), or None after reporting to `problems`
    why `bn` cannot be folded into the layer labelled `target`."""
    if not bn.last_axis:
        problems.add(BatchNormError(
            f"BatchNormalization '{bn.name}' must be applied on the last (channel) axis to be folded into "
            f"{target}; use axis=-1"))
        return None
    g = _core.batchnorm_scale(bn.gamma, bn.variance, bn.epsilon)
    if not np.all(np.isfinite(g)):
        problems.add(BatchNormError(
            f"BatchNormalization '{bn.name}' has non-finite scales gamma / sqrt(variance + epsilon) (negative "
            "moving_variance or NaN/infinite weights); retrain or reset the layer"))
        return None
    if np.any(g == 0):
        problems.add(BatchNormError(
            f"there are {int(np.sum(g == 0))} null gammas in BatchNormalization '{bn.name}': those channels "
            "would be constant and cannot be folded. Constrain gammas away from 0 "
            "(akq.gamma_constraint.add_gamma_constraint) and retrain"))
        return None
    return g


def fold_into_kernel(kernel: np.ndarray, bias: np.ndarray | None, bn: BatchNormNode,
                     g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(kernel * g per output channel, beta + (bias - mean) * g): `bn` folded into a float kernel."""
    return _core.scale_output_channels(kernel, g), _core.fold_bias(bias, bn.beta, bn.mean, g)
