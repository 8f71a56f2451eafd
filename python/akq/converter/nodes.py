"""The Keras model as plain data: one small record per Keras layer, numpy arrays, no Keras objects.

The only foreign objects kept are the weight quantizers of neural layers (plain Python objects with
`bitwidth` and `scale_factor`), called once by quantize.py on the final (folded) kernels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Node:
    name: str
    keras_class: str         # class name, for messages
    input_shape: tuple       # without the batch axis
    output_shape: tuple

    @property
    def label(self) -> str:
        return f"'{self.name}' ({self.keras_class})"


@dataclass
class NeuralNode(Node):
    """Conv2D, SeparableConv2D or Dense, quantized or not."""

    op: str = "conv"                       # 'conv' | 'separable' | 'dense'
    quantized: bool = False
    kernel: np.ndarray | None = None       # float32; the pointwise kernel for 'separable'
    depthwise_kernel: np.ndarray | None = None
    bias: np.ndarray | None = None         # float32 (F,) or None
    quantizer: object = None
    quantizer_dw: object = None
    kernel_size: tuple = (1, 1)
    strides: tuple = (1, 1)
    padding: str = "valid"
    # akq extension: batch-norm scale kept out of a per-tensor quantized kernel (threshold.hpp)
    channel_scale: np.ndarray | None = None
    folded: list[str] = field(default_factory=list)  # names of the BatchNormalization layers folded in

    @property
    def filters(self) -> int:
        return int(self.kernel.shape[-1])


@dataclass
class ActivationNode(Node):
    """ReLU or a quantized activation (bits b, step sigma)."""

    quantized: bool = False
    bits: int = 0
    step: np.float32 | None = None  # float32 step sigma (None for a plain ReLU)


@dataclass
class PoolNode(Node):
    """MaxPooling2D ('max') or GlobalAveragePooling2D ('average')."""

    pool: str = "max"
    pool_size: tuple = (2, 2)
    strides: tuple = (2, 2)
    padding: str = "valid"


@dataclass
class BatchNormNode(Node):
    gamma: np.ndarray = None
    beta: np.ndarray = None
    mean: np.ndarray = None
    variance: np.ndarray = None
    epsilon: float = 1e-3
    last_axis: bool = True


@dataclass
class RescalingNode(Node):
    scale: np.ndarray = None   # float64, a scalar unless the layer rescales per channel
    offset: np.ndarray = None


@dataclass
class OtherNode(Node):
    """Layers conversion drops or refuses: 'dropout', 'flatten', 'reshape', 'final_activation', 'unsupported'."""

    kind: str = "unsupported"
