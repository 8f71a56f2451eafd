"""Graph preparation (docs/spec B.2): drop Dropout, move pools before activations and batch norms after
them, and fold each BatchNormalization into the neural layer before it (rules in batchnorm.py)."""

from __future__ import annotations

import numpy as np

from .. import _core
from ..errors import BatchNormError
from . import quantize
from .batchnorm import batchnorm_scale, fold_into_kernel
from .nodes import ActivationNode, BatchNormNode, NeuralNode, Node, OtherNode, PoolNode
from .problems import Problems


def prepare(nodes: list[Node], problems: Problems) -> list[Node]:
    nodes = [n for n in nodes if not (isinstance(n, OtherNode) and n.kind == "dropout")]
    # activation -> MaxPool2D == MaxPool2D -> activation (activations do not decrease): one pass
    for i in range(len(nodes) - 1):
        if isinstance(nodes[i], ActivationNode) and _is_pool(nodes[i + 1], "max"):
            nodes[i], nodes[i + 1] = nodes[i + 1], nodes[i]
    # pool -> BN == BN -> pool: always for the (linear) average, for max only with positive scales
    for i in range(len(nodes) - 1):
        if _is_pool(nodes[i]) and isinstance(nodes[i + 1], BatchNormNode):
            pool, bn = nodes[i], nodes[i + 1]
            if pool.pool == "max" and np.any(bn.gamma <= 0):
                problems.add(BatchNormError(
                    f"there are {int(np.sum(bn.gamma <= 0))} negative or null gammas in BatchNormalization "
                    f"'{bn.name}', which follows MaxPool2D '{pool.name}': a max pool only commutes with a positive "
                    "scale. Move the batch norm before the pool, or constrain gammas to be positive "
                    "(akq.gamma_constraint.add_gamma_constraint)"))
                continue
            nodes[i], nodes[i + 1] = bn, pool
    prepared: list[Node] = []
    for node in nodes:
        if isinstance(node, BatchNormNode) and prepared and isinstance(prepared[-1], NeuralNode):
            fold(prepared[-1], node, problems)
        else:
            prepared.append(node)
    return prepared


def _is_pool(node: Node, pool: str | None = None) -> bool:
    return isinstance(node, PoolNode) and (pool is None or node.pool == pool)


def fold(neural: NeuralNode, bn: BatchNormNode, problems: Problems) -> None:
    """Fold `bn` into `neural`: into the kernel for per-axis (or float) layers, as the reference does;
    into the fire parameters (channel_scale) for per-tensor quantized layers, an akq extension."""
    g = batchnorm_scale(bn, neural.label, problems)
    if g is None:
        return
    neural.folded.append(bn.name)
    per_axis = neural.quantized and neural.channel_scale is None and \
        quantize.scale_factor(neural.quantizer, neural.kernel, neural.label).ndim == 1
    if neural.quantized and not per_axis:
        neural.bias = _core.fold_bias(neural.bias, bn.beta, bn.mean, g)
        neural.channel_scale = g if neural.channel_scale is None else (neural.channel_scale * g).astype(np.float32)
    else:
        neural.kernel, neural.bias = fold_into_kernel(neural.kernel, neural.bias, bn, g)
