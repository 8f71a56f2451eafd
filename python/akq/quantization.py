"""`quantize` and `quantize_layer`: turn a float Keras model into a quantization-aware one (cnn2snn legacy API).

Neural layers (Conv2D, SeparableConv2D, DepthwiseConv2D, Dense) become their akq Quantized* versions with a
`MaxPerAxisQuantizer` (per-tensor `MaxQuantizer` for depthwise kernels, as Akida needs); ReLU layers become
`QuantizedReLU` with the same `max_value`. Weights are kept, layer names too. The result is a new model
of the same kind (Sequential or functional) that trains like the original and converts with `akq.convert`.

Only linear models (one input, one output, each layer feeding the next) are handled, as conversion needs:
the layer chain is read and batch norms are folded by the converter's own code (converter/graph.py,
converter/batchnorm.py), so both refuse the same models with the same errors.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from . import quantization_layers as qlayers
from .converter.batchnorm import batchnorm_scale, fold_into_kernel
from .converter.graph import batchnorm_node, keras_layers
from .converter.problems import Problems
from .errors import QuantizationError
from .quantization_ops import MaxPerAxisQuantizer, MaxQuantizer

_NEURAL = (keras.layers.Conv2D, keras.layers.SeparableConv2D, keras.layers.DepthwiseConv2D, keras.layers.Dense)
# layers BatchNormalization can be folded into (a depthwise kernel has no output-channel axis of its own)
_FOLDABLE = (keras.layers.Conv2D, keras.layers.SeparableConv2D, keras.layers.Dense)


@dataclass
class _Entry:
    """One layer of the rebuilt model and the weights to give it once built."""

    new: keras.layers.Layer
    weights: list


def quantize(model: keras.Model, weight_quantization: int = 0, activ_quantization: int = 0,
             input_weight_quantization: int | None = None, fold_BN: bool = True) -> keras.Model:
    """A quantization-aware copy of `model` (the original is left untouched).

    Parameters
    ----------
    model : keras.Model
        A Sequential or linear functional model (float, or already quantized: it is re-quantized).
    weight_quantization : int
        Weight bitwidth of every neural layer but the first (0: leave those layers as they are).
    activ_quantization : int
        Bitwidth of the `QuantizedReLU` that replace ReLU layers (0: leave the activations as they are).
    input_weight_quantization : int, optional
        Weight bitwidth of the first neural layer (None: same as `weight_quantization`; 0: leave it).
    fold_BN : bool
        Fold every BatchNormalization that directly follows a Conv2D, SeparableConv2D or Dense into that
        layer's kernel and bias before quantizing (other BatchNormalization layers are kept), with the
        rules of akq.convert.

    Returns
    -------
    keras.Model
        The new model, not compiled.

    Raises
    ------
    QuantizationError
        A bitwidth out of range or a layer that cannot be quantized (e.g. a Conv2D with a fused
        activation), with the layer named.
    ModelStructureError
        A model that is not one linear chain of layers (as akq.convert refuses it).
    BatchNormError
        With fold_BN, a batch norm that cannot be folded (null gammas, wrong axis), as akq.convert refuses it.
    """
    _check_bitwidth(weight_quantization, "weight_quantization", minimum=2)
    _check_bitwidth(activ_quantization, "activ_quantization", minimum=1)
    if input_weight_quantization is None:
        input_weight_quantization = weight_quantization
    _check_bitwidth(input_weight_quantization, "input_weight_quantization", minimum=2)

    layers = _linear_layers(model)
    weights = {layer.name: layer.get_weights() for layer in layers}
    if fold_BN:
        layers = _fold_batchnorms(layers, weights)
    first_neural = next((layer for layer in layers if isinstance(layer, _NEURAL)), None)
    entries = []
    for layer in layers:
        if isinstance(layer, _NEURAL):
            bits = input_weight_quantization if layer is first_neural else weight_quantization
            new = _quantized_neural(layer, bits) if bits else _copy(layer)
        elif _relu_max_value(layer) is not _NOT_RELU:
            new = _quantized_relu(layer, activ_quantization) if activ_quantization else _copy(layer)
        else:
            new = _copy(layer)
        entries.append(_Entry(new, weights[layer.name]))
    return _rebuild(model, entries)


def quantize_layer(model: keras.Model, target_layer, bitwidth: int) -> keras.Model:
    """A copy of `model` where one layer is quantized (or re-quantized) to `bitwidth`.

    Parameters
    ----------
    model : keras.Model
        A Sequential or linear functional model.
    target_layer : str or int
        Name of the layer, or its index in `model.layers`.
    bitwidth : int
        Weight bitwidth (>= 2) for a neural layer, activation bitwidth (>= 1) for a ReLU or quantized
        activation layer.

    Raises
    ------
    QuantizationError
        The layer does not exist, is neither a neural layer nor a ReLU/quantized activation, or the
        bitwidth is out of range.
    """
    target = _find_layer(model, target_layer)
    is_neural = isinstance(target, _NEURAL)
    if not is_neural and _relu_max_value(target) is _NOT_RELU:
        raise QuantizationError(
            f"quantize_layer: layer '{target.name}' ({type(target).__name__}) cannot be quantized; target a "
            "Conv2D, SeparableConv2D, DepthwiseConv2D, Dense, ReLU or quantized activation layer")
    _check_bitwidth(bitwidth, "bitwidth", minimum=2 if is_neural else 1, allow_zero=False)
    entries = []
    for layer in _linear_layers(model):
        if layer is not target:
            new = _copy(layer)
        elif is_neural:
            new = _quantized_neural(layer, bitwidth)
        else:
            new = _quantized_relu(layer, bitwidth)
        entries.append(_Entry(new, layer.get_weights()))
    return _rebuild(model, entries)


# -- arguments -----------------------------------------------------------------------------------
def _check_bitwidth(value, argument: str, minimum: int, allow_zero: bool = True) -> None:
    valid = isinstance(value, (int, np.integer)) and not isinstance(value, bool) and \
        (value >= minimum or (allow_zero and value == 0))
    if not valid:
        zero = "0 (leave float) or " if allow_zero else ""
        raise QuantizationError(f"{argument} must be {zero}an integer >= {minimum}, got {value!r}; Akida takes "
                                "2, 4 or 8-bit weights (any >= 2 for the first layer) and 1, 2 or 4-bit activations")


def _find_layer(model, target_layer):
    layers = _linear_layers(model)
    if isinstance(target_layer, (int, np.integer)) and not isinstance(target_layer, bool):
        if not -len(model.layers) <= target_layer < len(model.layers):
            raise QuantizationError(f"quantize_layer: layer index {target_layer} is out of range; the model has "
                                    f"{len(model.layers)} layers")
        target_layer = model.layers[target_layer].name
    for layer in layers:
        if layer.name == target_layer:
            return layer
    raise QuantizationError(f"quantize_layer: no layer named {target_layer!r}; the layers are "
                            f"{[layer.name for layer in layers]}")


# -- model structure -----------------------------------------------------------------------------
def _linear_layers(model) -> list:
    """The layers of `model` in order (no InputLayer): the converter's walk, raising its first refusal."""
    return keras_layers(model, Problems(collect=False))


def _rebuild(model, entries: list[_Entry]) -> keras.Model:
    """A model of the same kind as `model` (Sequential or functional) made of the new layers, weights set."""
    source = model.inputs[0]
    if isinstance(model, keras.Sequential):
        inputs = keras.Input(batch_shape=source.shape, dtype=source.dtype)
        new_model = keras.Sequential([inputs, *(entry.new for entry in entries)], name=model.name)
    else:
        inputs = keras.Input(batch_shape=source.shape, dtype=source.dtype, name=model.layers[0].name)
        x = inputs
        for entry in entries:
            x = entry.new(x)
        new_model = keras.Model(inputs, x, name=model.name)
    for entry in entries:
        entry.new.set_weights(entry.weights)
    return new_model


# -- layer replacements --------------------------------------------------------------------------
def _copy(layer):
    return type(layer).from_config(layer.get_config())


def _neural_config(layer) -> dict:
    config = layer.get_config()
    for argument in ("quantizer", "quantizer_dw"):
        config.pop(argument, None)
    activation = config.get("activation")
    if activation not in (None, "linear"):
        raise QuantizationError(
            f"layer '{layer.name}' ({type(layer).__name__}) has a fused activation={activation!r}, which quantized "
            "layers do not take; remove it from the layer and add a separate ReLU layer after it")
    return config


def _quantized_neural(layer, bitwidth: int):
    config = _neural_config(layer)
    try:
        if isinstance(layer, keras.layers.SeparableConv2D):
            return qlayers.QuantizedSeparableConv2D.from_config(
                {**config, "quantizer": MaxPerAxisQuantizer(bitwidth), "quantizer_dw": MaxQuantizer(bitwidth)})
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            return qlayers.QuantizedDepthwiseConv2D.from_config({**config, "quantizer": MaxQuantizer(bitwidth)})
        quantized = qlayers.QuantizedConv2D if isinstance(layer, keras.layers.Conv2D) else qlayers.QuantizedDense
        return quantized.from_config({**config, "quantizer": MaxPerAxisQuantizer(bitwidth)})
    except TypeError as error:  # an argument the quantized layers refuse (dilation, groups, ...)
        raise QuantizationError(f"layer '{layer.name}' cannot be quantized: {error}") from None


_NOT_RELU = object()


def _relu_max_value(layer):
    """The max_value of a ReLU-like layer (None if unbounded), or _NOT_RELU for any other layer."""
    if isinstance(layer, qlayers.QuantizedReLU):
        return layer.max_value
    if isinstance(layer, qlayers.QuantizedActivation):
        return float(layer.levels * layer.step)
    if isinstance(layer, keras.layers.ReLU):
        if layer.negative_slope or layer.threshold:
            raise QuantizationError(
                f"ReLU '{layer.name}' has negative_slope={layer.negative_slope} and threshold={layer.threshold}; "
                "a QuantizedReLU takes neither: use a plain ReLU (optionally with max_value)")
        return None if layer.max_value is None else float(layer.max_value)
    if isinstance(layer, keras.layers.Activation):
        name = getattr(layer.activation, "__name__", "")
        return {"relu": None, "relu6": 6.0}.get(name, _NOT_RELU)
    return _NOT_RELU


def _quantized_relu(layer, bitwidth: int):
    return qlayers.QuantizedReLU(bitwidth, max_value=_relu_max_value(layer), name=layer.name)


# -- batch-norm folding --------------------------------------------------------------------------
def _fold_batchnorms(layers: list, weights: dict) -> list:
    """Drop each BatchNormalization that directly follows a foldable layer, folding it into `weights`."""
    kept = []
    for layer in layers:
        previous = kept[-1] if kept else None
        if isinstance(layer, keras.layers.BatchNormalization) and isinstance(previous, _FOLDABLE) \
                and previous.get_config().get("activation") in (None, "linear"):
            weights[previous.name] = _folded(previous, weights[previous.name], layer)
            kept[-1] = _with_bias(previous)
            weights[kept[-1].name] = weights.pop(previous.name)
            continue
        kept.append(layer)
    return kept


def _folded(layer, layer_weights: list, bn_layer) -> list:
    """[kernel(s)..., bias] of `layer` with `bn_layer` folded in: the converter's rules and float32 folding."""
    bn = batchnorm_node(bn_layer)
    g = batchnorm_scale(bn, f"'{layer.name}' ({type(layer).__name__})", Problems(collect=False))
    count = 2 if isinstance(layer, keras.layers.SeparableConv2D) else 1
    kernels = [np.asarray(w, np.float32) for w in layer_weights[:count]]
    bias = np.asarray(layer_weights[-1], np.float32) if layer.use_bias else None
    kernels[-1], folded_bias = fold_into_kernel(kernels[-1], bias, bn, g)  # the output (pointwise) kernel
    return [*kernels, folded_bias]


def _with_bias(layer):
    """A copy of `layer` that has a bias (a folded layer always has one)."""
    return type(layer).from_config({**layer.get_config(), "use_bias": True})
