"""Compatibility rules on the prepared layer list and grouping into blocks (docs/spec B.3).

A block is `neural [pool] [activation]`: it becomes one integer layer. Flatten, Reshape and a final
Softmax/Activation carry no computation and are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import FirstLayerError, LayerOrderError, UnsupportedLayerError
from .nodes import ActivationNode, BatchNormNode, NeuralNode, Node, OtherNode, PoolNode
from .problems import Problems


@dataclass
class Block:
    neural: NeuralNode
    pool: PoolNode | None = None
    activation: ActivationNode | None = None
    dropped: list[Node] = field(default_factory=list)  # final Softmax/Activation layers left out after it

    @property
    def keras_output_shape(self) -> tuple:
        return (self.pool or self.neural).output_shape

    @property
    def label(self) -> str:
        names = [n.name for n in (self.neural, self.pool, self.activation) if n is not None]
        return "'" + " + ".join(names) + "'"


def group_blocks(nodes: list[Node], image_input: bool, problems: Problems) -> list[Block]:
    blocks: list[Block] = []
    last_neural = max((i for i, n in enumerate(nodes) if isinstance(n, NeuralNode)), default=-1)
    previous: Node | None = None
    for position, node in enumerate(nodes):
        following = nodes[position + 1] if position + 1 < len(nodes) else None
        if isinstance(node, NeuralNode):
            _check_neural(node, blocks, image_input, problems)
            blocks.append(Block(node))
        elif isinstance(node, ActivationNode):
            _check_activation(node, blocks, previous, problems)
        elif isinstance(node, PoolNode):
            _check_pool(node, blocks, previous, problems)
        elif isinstance(node, BatchNormNode):
            problems.add(UnsupportedLayerError(
                f"layer '{node.name}' of type BatchNormalization is not supported here: only a batch norm "
                "directly after a neural layer (or after its pooling) can be folded. Move it before the "
                "activation"))
        elif isinstance(node, OtherNode):
            _check_other(node, following, position < last_neural, problems)
            if node.kind == "final_activation" and blocks and position > last_neural:
                blocks[-1].dropped.append(node)
        previous = node
    return blocks


def _check_neural(node: NeuralNode, blocks: list[Block], image_input: bool, problems: Problems) -> None:
    if not blocks and image_input and not (node.quantized and node.op == "conv"):
        problems.add(FirstLayerError(
            f"first layer {node.label} must be a QuantizedConv2D when the model input has 1 or 3 channels "
            "(it becomes the InputConvolutional layer that reads the 8-bit pixels)"))
    elif not node.quantized:
        problems.add(UnsupportedLayerError(
            f"layer {node.label}: unsupported type {node.keras_class}; quantize it first (akq.quantize, or "
            "use the Quantized* layer with a weight quantizer)"))
    if node.op == "dense" and node.input_shape[:-1] not in ((), (1, 1)):
        problems.add(LayerOrderError(
            f"the Dense layer '{node.name}' must have an input shape of (N,) or (1, 1, N), got "
            f"{node.input_shape}; add a Flatten or a GlobalAveragePooling2D before it"))
    if blocks and blocks[-1].activation is None:
        problems.add(LayerOrderError(
            f"an activation layer is required between the two neural layers '{blocks[-1].neural.name}' and "
            f"'{node.name}' (each integer layer ends with its activation): add a QuantizedReLU"))


def _check_activation(node: ActivationNode, blocks: list[Block], previous: Node | None,
                      problems: Problems) -> None:
    if not node.quantized:
        problems.add(UnsupportedLayerError(
            f"layer {node.label}: unsupported type {node.keras_class}; replace it with a quantized activation "
            "(akq.quantization_layers.QuantizedReLU or ActivationDiscreteRelu)"))
    if not blocks or blocks[-1].activation is not None:
        after = f" after activation '{blocks[-1].activation.name}'" if blocks and blocks[-1].activation else ""
        problems.add(LayerOrderError(
            f"a neural layer is required before the activation layer '{node.name}'{after}: two activations "
            "in a row (or an activation first) cannot be converted; remove one"))
        return
    blocks[-1].activation = node


def _check_pool(node: PoolNode, blocks: list[Block], previous: Node | None, problems: Problems) -> None:
    if not blocks:
        problems.add(LayerOrderError(
            f"pooling layer '{node.name}' cannot be the first layer of a model: pooling happens inside a "
            "convolutional layer, so place it after a Conv2D or SeparableConv2D"))
        return
    block = blocks[-1]
    if previous is not block.neural or block.neural.op == "dense":
        problems.add(LayerOrderError(
            f"pooling layer '{node.name}' must be placed directly after a convolutional neural layer; it is "
            f"after '{previous.name}' ({previous.keras_class}). Move it right after the Conv2D/SeparableConv2D "
            "(a MaxPool2D may also sit just after the activation)"))
        return
    if node.pool == "max" and node.padding != block.neural.padding:
        problems.add(LayerOrderError(
            f"pooling layer '{node.name}' (padding: {node.padding}) must have the same padding as "
            f"'{block.neural.name}' (padding: {block.neural.padding}): the integer layer pools with its "
            "convolution's padding mode"))
    block.pool = node


def _check_other(node: OtherNode, following: Node | None, before_last_neural: bool, problems: Problems) -> None:
    if node.kind == "flatten":
        if following is not None and not (isinstance(following, NeuralNode) and following.op == "dense") \
                and not (isinstance(following, OtherNode) and following.kind == "final_activation"):
            problems.add(LayerOrderError(
                f"a Flatten layer is only supported before a Dense one; '{node.name}' is followed by "
                f"'{following.name}' ({following.keras_class}). Remove it or move it before the Dense"))
    elif node.kind == "reshape":
        shapes = {node.input_shape, node.output_shape}
        n = int(np.prod(node.input_shape))
        if node.input_shape != node.output_shape and shapes != {(n,), (1, 1, n)}:
            problems.add(LayerOrderError(
                f"the Reshape layer '{node.name}' can only turn (N,) into (1, 1, N) or back; it reshapes "
                f"{node.input_shape} to {node.output_shape}. Use Flatten before a Dense instead"))
    elif node.kind == "final_activation":
        if before_last_neural:
            problems.add(LayerOrderError(
                f"activation layer '{node.name}' ({node.keras_class}) comes before a neural layer; only ReLU "
                "and quantized activations can be converted there (a Softmax or other Activation is only "
                "dropped after the last neural layer). Replace it with a QuantizedReLU"))
    else:
        problems.add(UnsupportedLayerError(
            f"layer '{node.name}' of type {node.keras_class} is not supported for conversion: akq converts "
            "Conv2D, SeparableConv2D and Dense (quantized) with MaxPool2D, GlobalAveragePooling2D, "
            "BatchNormalization, quantized activations, Flatten, Reshape, Dropout and a final Softmax"))
