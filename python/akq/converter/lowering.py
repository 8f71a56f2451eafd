"""Blocks -> integer layer specs (docs/spec B.4 parameters, B.5 weight layouts, B.6 fire parameters)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _core
from ..errors import ActStepError, AkqError, ConversionError, LayerError, QuantizationError
from . import quantize
from .blocks import Block
from .problems import Problems
from .scaling import InputScaling

LayerType, Padding, PoolType = _core.LayerType, _core.Padding, _core.PoolType


@dataclass
class LoweredLayer:
    """One converted layer and what diagnostics need to know about it."""

    spec: object                         # _core.LayerSpec
    block: Block | None                  # None for the InputData layer
    scale_factor: np.ndarray | None = None
    potential_step: np.ndarray | None = None   # S * sigma per filter
    input_scaling: InputScaling | None = None


def lower(model_name: str, input_shape: tuple, image_input: bool, blocks: list[Block], scaling: InputScaling,
          problems: Problems) -> list[LoweredLayer]:
    layers: list[LoweredLayer] = []
    if not image_input:
        layers.append(LoweredLayer(_input_data(model_name, input_shape), None))
    layer_scaling = scaling
    failed = False
    for index, block in enumerate(blocks):
        layer_type = _layer_type(block.neural.op, index == 0 and image_input)
        try:
            if failed:  # the input of this layer is unknown: check what does not depend on it
                _check_bits(block, layer_type)
            else:
                previous = layers[-1].spec if layers else None
                layers.append(_lower_block(block, previous, layer_scaling, layer_type, first=index == 0))
        except AkqError as error:
            problems.add(error)
            failed = True
        if block.activation is not None and block.activation.quantized and block.activation.step > 0:
            layer_scaling = InputScaling(1.0 / float(block.activation.step), 0.0)
    return layers


def _input_data(model_name: str, input_shape: tuple):
    spec = _core.LayerSpec()
    spec.type = LayerType.InputData
    spec.name = f"{model_name}_input"
    spec.input_dims = tuple(input_shape) if len(input_shape) == 3 else (1, 1, input_shape[0])
    spec.input_bits = 4
    spec.output_dims = _core.output_dims(spec)
    return spec


def _lower_block(block: Block, previous, scaling: InputScaling, layer_type, first: bool) -> LoweredLayer:
    neural, pool, act = block.neural, block.pool, block.activation
    spec = _core.LayerSpec()
    spec.name = neural.name
    spec.type = layer_type
    spec.input_dims = tuple(neural.input_shape) if previous is None else previous.output_dims
    spec.filters = neural.filters
    spec.weights_bits = _check_bits(block, layer_type)
    spec.activation = act is not None
    if act is not None:
        spec.act_bits = act.bits
    if spec.type != LayerType.FullyConnected:
        spec.kernel_size = tuple(neural.kernel_size)
        spec.kernel_stride = tuple(neural.strides)
        spec.padding = Padding.Same if neural.padding == "same" else Padding.Valid
    if pool is not None:
        spec.pool_type = PoolType.Max if pool.pool == "max" else PoolType.Average
        if pool.pool == "max":
            spec.pool_size, spec.pool_stride = tuple(pool.pool_size), tuple(pool.strides)
    if spec.type == LayerType.InputConvolutional:
        spec.padding_value = int(scaling.shift)  # truncation toward zero, as the reference
    try:
        _core.check_layer_parameters(spec)
    except LayerError as error:
        raise LayerError(f"Keras block {block.label} cannot become an akq {spec.type.name} layer: {error}. "
                         "Change the Keras layer's parameters accordingly") from None
    spec.output_dims = _core.output_dims(spec)
    _check_output_shape(block, spec)
    sf = _set_weights(spec, neural)
    shift = scaling.shift if first else 0.0
    threshold, act_step, potential_step = _fire(spec, block, sf, scaling.scale, shift)
    spec.threshold, spec.act_step = threshold, act_step
    return LoweredLayer(spec, block, sf, potential_step, scaling)


def _layer_type(op: str, input_conv: bool):
    if input_conv:
        return LayerType.InputConvolutional
    return {"conv": LayerType.Convolutional, "separable": LayerType.SeparableConvolutional,
            "dense": LayerType.FullyConnected}[op]


def _check_bits(block: Block, layer_type) -> int:
    """The layer's weights_bits, after checking weight and activation bitwidths (docs/spec B.4)."""
    neural, act = block.neural, block.activation
    if act is not None and act.bits not in (1, 2, 4):
        raise QuantizationError(
            f"activation bitwidth must be 1, 2 or 4; layer '{act.name}' has bitwidth {act.bits}. Change its bitwidth")
    bits = quantize.bitwidth(neural.quantizer, neural.label)
    if neural.op == "separable":
        dw_bits = quantize.bitwidth(neural.quantizer_dw, neural.label)
        if dw_bits != bits:
            raise QuantizationError(
                f"quantized layer '{neural.name}' must have the same bitwidth for depthwise and pointwise "
                f"quantizers (got {dw_bits} and {bits}): the integer layer has one weights_bits")
    if layer_type != LayerType.InputConvolutional and bits not in (2, 4, 8):
        raise QuantizationError(
            f"weight bitwidth must be 2, 4 or 8; layer '{neural.name}' has bitwidth {bits}. Only the first "
            "layer of an image model (InputConvolutional) takes other bitwidths")
    return bits


def _check_output_shape(block: Block, spec) -> None:
    keras_shape = tuple(block.keras_output_shape)
    ours = tuple(spec.output_dims)
    if keras_shape not in (ours, ours[2:]) or (len(keras_shape) == 1 and ours[:2] != (1, 1)):
        raise ConversionError(
            f"Keras block {block.label} outputs {keras_shape} but the integer layer would output {ours}; "
            "this combination of padding, strides and pooling is not representable")


def _set_weights(spec, neural) -> np.ndarray:
    """Integer weights in the layer's layout (docs/spec B.5); returns the layer scale factor."""
    sf = quantize.scale_factor(neural.quantizer, neural.kernel, neural.label)
    weights = quantize.integer_weights(neural.quantizer, neural.kernel, sf, neural.label)
    if neural.channel_scale is not None:
        weights = _core.negate_negative_channels(weights, neural.channel_scale)
    if spec.type == LayerType.SeparableConvolutional:
        sf_dw = quantize.scale_factor(neural.quantizer_dw, neural.depthwise_kernel, neural.label)
        depthwise = quantize.integer_weights(neural.quantizer_dw, neural.depthwise_kernel, sf_dw, neural.label)
        spec.weights = np.ascontiguousarray(depthwise[::-1, ::-1])
        spec.weights_pw = weights
        return sf_dw * sf
    if spec.type == LayerType.Convolutional:
        weights = np.ascontiguousarray(weights[::-1, ::-1])
    elif spec.type == LayerType.FullyConnected:
        d0, d1, c = spec.input_dims
        if weights.shape[0] != d0 * d1 * c:
            raise ConversionError(f"Dense layer '{neural.name}' has {weights.shape[0]} inputs, but its input "
                                  f"layer outputs {d0}x{d1}x{c}")
        weights = np.ascontiguousarray(
            weights.reshape(d0, d1, c, -1).transpose(2, 1, 0, 3).reshape(1, 1, d0 * d1 * c, -1))
    spec.weights = weights
    return sf


def _weight_sums(spec) -> np.ndarray:
    """Each filter's potential for an all-ones input without padding: what a constant input shift adds."""
    w = spec.weights.astype(np.int64)
    if spec.type == LayerType.SeparableConvolutional:
        channels = spec.input_dims[2]
        depthwise = w.reshape(-1, channels).sum(axis=0)
        return depthwise @ spec.weights_pw.astype(np.int64).reshape(channels, -1)
    return w.reshape(-1, w.shape[-1]).sum(axis=0)


def _fire(spec, block: Block, sf: np.ndarray, input_scale: float, input_shift: float):
    neural, act = block.neural, block.activation
    weight_sums = _weight_sums(spec) if input_shift != 0.0 else None
    positions = 1
    if block.pool is not None and block.pool.pool == "average":
        positions = int(np.prod(block.pool.input_shape[:2]))
    try:
        threshold, act_step, potential_step = _core.fire_parameters(
            np.atleast_1d(sf), sf.ndim == 1, spec.filters, input_scale=input_scale, input_shift=input_shift,
            bias=neural.bias, weight_sums=weight_sums, activation=act is not None,
            act_bits=act.bits if act else 1, act_step=act.step if act else np.float32(1),
            pooled_positions=positions, channel_scale=neural.channel_scale)
    except QuantizationError as error:
        raise QuantizationError(
            f"layer {block.label}: {error}. The scale factor or the bias is extreme: check the weights and "
            "batch-norm statistics for tiny or huge values") from None
    low = np.flatnonzero(act_step < np.float32(1 / 16))
    if low.size:
        raise ActStepError(
            f"layer {block.label}: act_step {act_step[low].min():.4g} < 1/16 for {low.size} of {spec.filters} "
            f"filters (e.g. filter {low[0]}), below the engine's 1/16 resolution: the layer has only "
            f"{potential_step[low].min():.3g} potential units per Keras activation step. Raise the weight "
            "bitwidth or the activation bitwidth, use a per-axis quantizer, or a larger max_value for this "
            "activation (or a smaller one for the previous)")
    return threshold, act_step, potential_step
