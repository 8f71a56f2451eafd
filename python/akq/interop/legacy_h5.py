"""Legacy cnn2snn checkpoints: `load_quantized_model` (Keras 2 .h5 -> Keras 3 akq layers) and
`load_partial_weights`.

Keras 3 cannot read a model that legacy cnn2snn saved with `model.save("x.h5")` (it fails on
QuantizedConv2D's config), so the file is read with h5py: the model config (JSON) becomes akq and
Keras 3 layers, and the weights come from model_weights/<layer> in the order of its weight_names.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import LegacyModelError, UnknownLegacyLayerError, WeightsMismatchError
from ..extras import require

# cnn2snn's quantized layers: same names and arguments in akq.quantization_layers
CNN2SNN_LAYERS = ("QuantizedConv2D", "QuantizedSeparableConv2D", "QuantizedDepthwiseConv2D", "QuantizedDense",
                  "QuantizedActivation", "ActivationDiscreteRelu", "QuantizedReLU")
QUANTIZER_ARGUMENTS = ("bitwidth", "threshold")  # the rest of a quantizer config is Keras 2 Layer state
# config keys of Keras 2 that the Keras 3 layers do not take (unused state of Keras 2's base classes)
_SEPARABLE_ONLY = ("groups", "kernel_initializer", "kernel_regularizer", "kernel_constraint")
KERAS2_ONLY = {"*": ("batch_input_shape", "ragged", "sparse"),
               "QuantizedSeparableConv2D": _SEPARABLE_ONLY, "SeparableConv2D": _SEPARABLE_ONLY}


def load_quantized_model(filepath):
    """The Keras 3 model (akq layers, with weights) of a legacy cnn2snn .h5 checkpoint (docs/deployment.md)."""
    h5py = require("h5py", "akq.load_quantized_model")

    path = Path(filepath)
    if not path.is_file():
        raise LegacyModelError(f"{path}: no such file")
    try:
        with h5py.File(path, "r") as file:
            config, weights = _model_config(file, path), _weights(file)
    except OSError as error:  # h5py: not an HDF5 file, or a truncated one
        raise LegacyModelError(f"{path}: not a readable HDF5 file ({error}); give the .h5 that cnn2snn's "
                               "model.save() wrote") from error
    return _build(config, weights, path)


def load_partial_weights(dest_model, src_model) -> None:
    """Copy the weights of every layer of `src_model` into the layer of `dest_model` with the same name."""
    targets = {layer.name: layer for layer in dest_model.layers}
    for layer in src_model.layers:
        target = targets.get(layer.name)
        if target is None or not layer.weights:
            continue
        values = layer.get_weights()
        expected = [tuple(w.shape) for w in target.get_weights()]
        if [v.shape for v in values] != expected:
            raise WeightsMismatchError(
                f"layer '{layer.name}': the source weights have shapes {[v.shape for v in values]}, the "
                f"destination layer expects {expected}; rename one of the layers or give them the same "
                "configuration")
        target.set_weights(values)


def _model_config(file, path: Path) -> dict:
    if "model_config" not in file.attrs:
        raise LegacyModelError(f"{path}: this HDF5 file holds no Keras model (weights only?); cnn2snn checkpoints "
                               "come from model.save('x.h5'). For weights alone, build the model and use "
                               "akq.load_partial_weights or keras' load_weights")
    raw = file.attrs["model_config"]
    config = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
    names = [layer["class_name"] for layer in config["config"]["layers"]]
    if not any(name in CNN2SNN_LAYERS for name in names):
        raise LegacyModelError(f"{path}: a Keras model without any cnn2snn quantized layer ({', '.join(names)}); "
                               "load it with keras.models.load_model and quantize it with akq.quantize")
    if config["class_name"] != "Sequential":
        _check_linear(config["config"], path)
    return config


def _check_linear(config: dict, path: Path) -> None:
    """A functional model must be one chain (the only models Akida 1.0 conversion takes)."""
    layers = config["layers"]
    for previous, layer in zip(layers, layers[1:]):
        inbound = [node[0] for nodes in layer.get("inbound_nodes", []) for node in nodes]
        if inbound != [previous["name"]]:
            raise LegacyModelError(f"{path}: layer '{layer['config']['name']}' takes {inbound or 'no inputs'}, "
                                   f"not the previous layer '{previous['name']}'; akq reads linear models only")


def _weights(file) -> dict[str, list]:
    group = file["model_weights"]
    weights = {}
    for name in group.attrs["layer_names"]:
        name = name.decode() if isinstance(name, bytes) else name
        layer = group[name]
        names = [n.decode() if isinstance(n, bytes) else n for n in layer.attrs["weight_names"]]
        weights[name] = [layer[n][()] for n in names]
    return weights


def _quantizer(desc: dict, layer_name: str):
    from .. import quantization_ops

    cls = getattr(quantization_ops, desc["class_name"], None)
    if not isinstance(cls, type) or not issubclass(cls, quantization_ops.WeightQuantizer):
        raise UnknownLegacyLayerError(f"layer '{layer_name}': unknown cnn2snn quantizer {desc['class_name']}; akq "
                                      "has MaxQuantizer, MaxPerAxisQuantizer, StdWeightQuantizer, "
                                      "StdPerAxisQuantizer")
    return cls(**{k: v for k, v in desc["config"].items() if k in QUANTIZER_ARGUMENTS})


def _layer(desc: dict):
    import keras

    from .. import quantization_layers

    name, config = desc["class_name"], dict(desc["config"])
    for key in KERAS2_ONLY["*"] + KERAS2_ONLY.get(name, ()):
        config.pop(key, None)
    if isinstance(config.get("axis"), list) and len(config["axis"]) == 1:
        config["axis"] = config["axis"][0]  # Keras 2 BatchNormalization stores axis=[3]
    for key in ("quantizer", "quantizer_dw"):
        if key in config:
            config[key] = _quantizer(config[key], config["name"])
    cls = getattr(quantization_layers if name in CNN2SNN_LAYERS else keras.layers, name, None)
    if not isinstance(cls, type) or not issubclass(cls, keras.layers.Layer):
        raise UnknownLegacyLayerError(
            f"layer '{config.get('name')}': {name} is neither a cnn2snn layer nor a Keras layer; replace it in "
            f"the Keras 2 model (akq knows the Keras layers and {', '.join(CNN2SNN_LAYERS)})")
    try:
        return cls(**config)
    except (TypeError, ValueError) as error:
        raise UnknownLegacyLayerError(f"layer '{config.get('name')}': akq cannot rebuild this Keras 2 {name} in "
                                      f"Keras 3 ({error}); replace it in the Keras 2 model") from error


def _build(config: dict, weights: dict, path: Path):
    import keras

    descs = config["config"]["layers"]
    first = descs[0]["config"]
    if "batch_input_shape" not in first:
        raise LegacyModelError(f"{path}: the model has no input shape (batch_input_shape); save it built")
    layers = [_layer(desc) for desc in descs if desc["class_name"] != "InputLayer"]
    model = keras.Sequential([keras.Input(tuple(first["batch_input_shape"][1:])), *layers],
                             name=config["config"].get("name"))
    for layer in layers:
        values = weights.get(layer.name, [])
        try:
            layer.set_weights(values)
        except ValueError as error:
            raise LegacyModelError(f"{path}: layer '{layer.name}': the stored weights do not fit the rebuilt "
                                   f"layer ({error})") from error
    return model
