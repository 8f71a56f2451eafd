"""Keras model -> one linear list of plain nodes (nodes.py), with the model-level rules (docs/spec B.2, B.3).

This is the only module that reads Keras graphs: `keras_layers` is the one walk of a model's layer chain,
for akq.quantize as for akq.convert, and `batchnorm_node` the one reading of a BatchNormalization.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ModelStructureError
from .nodes import ActivationNode, BatchNormNode, NeuralNode, Node, OtherNode, PoolNode, RescalingNode
from .problems import Problems


@dataclass
class Graph:
    name: str
    input_shape: tuple   # Keras input shape without the batch axis: (H, W, C) or (N,)
    nodes: list[Node]


def read_model(model, problems: Problems) -> Graph | None:
    """The model's layers in order as nodes; None (after reporting) if it is not one linear chain."""
    layers = keras_layers(model, problems)
    if layers is None:
        return None
    input_shape = tuple(model.inputs[0].shape[1:])
    if len(input_shape) not in (1, 3) or any(d is None for d in input_shape):
        raise ModelStructureError(
            f"model '{model.name}' has input shape {tuple(model.inputs[0].shape)}; akq needs a fixed 2-D "
            "(batch, N) or 4-D (batch, H, W, C) input: reshape the input to one of these")
    for layer in layers:
        if getattr(layer, "data_format", "channels_last") == "channels_first":
            problems.add(ModelStructureError(
                f"layer '{layer.name}' uses data_format='channels_first'; akq needs channels_last (NHWC) "
                "layers: rebuild the model with data_format='channels_last'"))
    return Graph(model.name, input_shape, [_node(layer) for layer in layers])


def keras_layers(model, problems: Problems) -> list | None:
    """The layers of a one-input, one-output Keras model from input to output (no InputLayer); None after
    reporting to `problems` if the graph branches, merges or nests a model."""
    import keras

    if not isinstance(model, keras.Model):
        raise ModelStructureError(f"expected a Keras model, got {type(model).__name__}")
    try:
        inputs, outputs = model.inputs, model.outputs
    except (AttributeError, ValueError):
        inputs = outputs = None
    if not inputs or not outputs:
        raise ModelStructureError(
            f"model '{model.name}' is not built: give it an input shape (keras.Input(...)) as its first layer")
    if len(inputs) != 1 or len(outputs) != 1:
        raise ModelStructureError(
            f"model '{model.name}' has {len(inputs)} inputs and {len(outputs)} outputs; akq takes models "
            "with exactly one input and one output")
    layers = list(model.layers) if isinstance(model, keras.Sequential) else _chain(model, problems)
    for layer in layers or []:
        if isinstance(layer, keras.Model):
            problems.add(ModelStructureError(
                f"layer '{layer.name}' is a nested model; rebuild the model with its layers inline (one flat "
                "chain of layers)"))
            return None
    return layers


def _chain(model, problems: Problems) -> list | None:
    """The layers of a functional model from input to output, or None if the graph branches or merges."""
    import keras

    chain = []
    tensor = model.outputs[0]
    while True:
        layer, node_index, _ = tensor._keras_history
        if isinstance(layer, keras.layers.InputLayer):
            break
        parents = layer._inbound_nodes[node_index].input_tensors
        if len(parents) != 1:
            problems.add(ModelStructureError(
                f"layer '{layer.name}' ({type(layer).__name__}) has {len(parents)} inbound layers; akq quantizes "
                "and converts only models that are one sequential branch (no Add, Concatenate or other merge)"))
            return None
        chain.append(layer)
        tensor = parents[0]
    chain.reverse()
    on_chain = {id(layer) for layer in chain}
    off_chain = [l.name for l in model.layers if id(l) not in on_chain and not isinstance(l, keras.layers.InputLayer)]
    if off_chain or len(on_chain) != len(chain):
        problems.add(ModelStructureError(
            f"model '{model.name}' contains more than one sequential branch (layers off the input-to-output "
            f"chain: {off_chain or 'a layer used twice'}); akq quantizes and converts linear models only"))
        return None
    return chain


def _shape(tensor) -> tuple:
    return tuple(tensor.shape[1:])


def _floats(variable) -> np.ndarray:
    """A float32 numpy copy of a Keras variable or value.

    TensorFlow-backed variables are read with one raw ReadVariableOp: a third of the per-op cost of
    `.numpy()`, which dominates conversion time on models with many small layers.
    """
    resource = getattr(getattr(variable, "_value", None), "handle", None)
    if resource is not None:
        import tensorflow as tf

        value = tf.raw_ops.ReadVariableOp(resource=resource, dtype=variable._value.dtype).numpy()
        return value.astype(np.float32, copy=False)
    return np.asarray(variable.numpy() if hasattr(variable, "numpy") else variable, dtype=np.float32)


def _base(layer) -> dict:
    return {"name": layer.name, "keras_class": type(layer).__name__, "input_shape": _shape(layer.input),
            "output_shape": _shape(layer.output)}


def _node(layer) -> Node:
    """One Keras layer as a plain node."""
    import keras

    from .. import quantization_layers as ql

    base = _base(layer)
    L = keras.layers
    if isinstance(layer, (L.DepthwiseConv2D, ql.QuantizedDepthwiseConv2D)):
        return OtherNode(**base, kind="unsupported")
    if isinstance(layer, L.BatchNormalization):
        return batchnorm_node(layer)
    if isinstance(layer, L.SeparableConv2D):
        quantized = isinstance(layer, ql.QuantizedSeparableConv2D)
        return NeuralNode(**base, op="separable", quantized=quantized, kernel=_floats(layer.pointwise_kernel),
                          depthwise_kernel=_floats(layer.depthwise_kernel),
                          bias=_floats(layer.bias) if layer.use_bias else None,
                          quantizer=getattr(layer, "quantizer", None), quantizer_dw=getattr(layer, "quantizer_dw", None),
                          kernel_size=tuple(layer.kernel_size), strides=tuple(layer.strides), padding=layer.padding)
    if isinstance(layer, (L.Conv2D, L.Dense)):
        conv = isinstance(layer, L.Conv2D)
        quantized = isinstance(layer, (ql.QuantizedConv2D, ql.QuantizedDense))
        return NeuralNode(**base, op="conv" if conv else "dense", quantized=quantized, kernel=_floats(layer.kernel),
                          bias=_floats(layer.bias) if layer.use_bias else None,
                          quantizer=getattr(layer, "quantizer", None),
                          kernel_size=tuple(layer.kernel_size) if conv else (1, 1),
                          strides=tuple(layer.strides) if conv else (1, 1),
                          padding=layer.padding if conv else "valid")
    if isinstance(layer, ql.QuantizedActivation):
        return ActivationNode(**base, quantized=True, bits=int(layer.bitwidth), step=np.float32(_floats(layer.step)))
    if isinstance(layer, L.ReLU):
        return ActivationNode(**base, quantized=False)
    if isinstance(layer, L.MaxPooling2D):
        return PoolNode(**base, pool="max", pool_size=tuple(layer.pool_size), strides=tuple(layer.strides),
                        padding=layer.padding)
    if isinstance(layer, L.GlobalAveragePooling2D):
        return PoolNode(**base, pool="average")
    if isinstance(layer, L.Rescaling):
        return RescalingNode(**base, scale=np.asarray(layer.scale, np.float64), offset=np.asarray(layer.offset, np.float64))
    kinds = ((L.Dropout, "dropout"), (L.Flatten, "flatten"), (L.Reshape, "reshape"),
             ((L.Softmax, L.Activation), "final_activation"))
    for cls, kind in kinds:
        if isinstance(layer, cls):
            return OtherNode(**base, kind=kind)
    return OtherNode(**base, kind="unsupported")


def batchnorm_node(layer) -> BatchNormNode:
    """A Keras BatchNormalization as a plain node (float32 parameters)."""
    base = _base(layer)
    channels = base["input_shape"][-1]
    axis = layer.axis if isinstance(layer.axis, (list, tuple)) else [layer.axis]
    rank = len(base["input_shape"]) + 1
    last_axis = [a % rank for a in axis] == [rank - 1]
    ones, zeros = np.ones(channels, np.float32), np.zeros(channels, np.float32)
    return BatchNormNode(
        **base,
        gamma=_floats(layer.gamma) if layer.gamma is not None else ones,
        beta=_floats(layer.beta) if layer.beta is not None else zeros,
        mean=_floats(layer.moving_mean), variance=_floats(layer.moving_variance),
        epsilon=float(layer.epsilon), last_axis=last_axis)
