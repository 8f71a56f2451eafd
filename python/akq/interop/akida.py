"""akq.Model <-> akida.Model through akida's public Python API, Akida 1.0 layers only (docs/deployment.md).

Layers are built with akida's layer classes and filled with `set_variable`; the way back reads each
layer's `parameters` and `get_variable`. A model compiled for edge learning is compiled on the other
side with the same optimizer parameters and learning variables (docs/learning.md). No TensorFlow
here: an engine-only install with akida suffices.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import (AkidaCompatibilityError, AkidaNotInstalledError, LearningError, ModelFileError,
                      NotAnAkidaModelError)
from ..model.akida_api import layer_from_parameters

INSTALL_HINT = "install BrainChip's akida runtime with: pip install 'akq[akida]'"
AKIDA1_TYPES = ("InputData", "InputConvolutional", "Convolutional", "SeparableConvolutional", "FullyConnected")
LEARNING_VARIABLES = ("threshold_learning", "thswap")
OPTIMIZER_PARAMETERS = ("num_weights", "num_classes", "initial_plasticity", "min_plasticity", "plasticity_decay",
                        "learning_competition")


def import_akida():
    """The akida module, or AkidaNotInstalledError saying how to install it."""
    try:
        import akida
    except ImportError as error:
        raise AkidaNotInstalledError(f"this needs the akida runtime, which is not installed: {INSTALL_HINT}") \
            from error
    return akida


# -- akq -> akida ----------------------------------------------------------------------------------
def _akida_kwargs(akida, layer) -> dict:
    """Constructor arguments of the akida class named like `layer`'s type (same names as akq's)."""
    p = layer.parameters
    kwargs = {"name": layer.name}
    kind = p.layer_type.name
    if kind in ("InputData", "InputConvolutional"):
        kwargs["input_shape"] = tuple(p.input_shape)
    if kind == "InputData":
        return kwargs | {"input_bits": p.input_bits}
    kwargs |= {"weights_bits": p.weights_bits, "activation": bool(p.activation), "act_bits": p.act_bits}
    if kind == "FullyConnected":
        return kwargs | {"units": p.units}
    kwargs |= {"kernel_size": p.kernel_size, "filters": p.filters, "kernel_stride": p.kernel_stride,
               "padding": akida.Padding.__members__[p.padding.name],
               "pool_type": akida.PoolType.__members__[p.pool_type.name],
               "pool_size": p.pool_size, "pool_stride": p.pool_stride}
    if kind == "InputConvolutional":
        kwargs["padding_value"] = p.padding_value % 256  # used mod 256; akida 2.19 takes uint8 only
    return kwargs


def _check_act_step(layer) -> None:
    """akida divides by s16 = floor(16 * act_step) in 32 bits: s16 >= 2^31 or a multiple of 2^28 kills the
    process (SIGFPE, measured on akida 2.4.0 and 2.19.3), so such a layer is refused before it gets there."""
    if layer.parameters.layer_type.name == "InputData" or not layer.parameters.activation:
        return
    s16 = np.floor(16 * layer.get_variable("act_step").astype(np.float64))
    bad = np.flatnonzero((s16 >= 2**31) | (s16 % 2**28 == 0))
    if bad.size:
        raise AkidaCompatibilityError(
            f"layer '{layer.name}': act_step[{bad[0]}] = {layer.get_variable('act_step')[bad[0]]:g} would "
            "crash the akida runtime (16 * act_step must be below 2^31 and not a multiple of 2^28); use "
            "act_steps below 2^24 (the AKD1000 itself takes at most 65535)")


def to_akida(model):
    """An akida.Model with the layers, parameters and variables of akq `model` (Akida 1.0 layers)."""
    akida = import_akida()
    result = akida.Model()
    for layer in model.layers:
        kind = layer.parameters.layer_type.name
        _check_act_step(layer)
        try:
            result.add(getattr(akida, kind)(**_akida_kwargs(akida, layer)))
            target = result.layers[-1]
            for name in layer.variables:
                if name not in LEARNING_VARIABLES:  # exist on the akida side only once compiled
                    target.set_variable(name, layer.get_variable(name))
        except (RuntimeError, ValueError, TypeError) as error:
            raise AkidaCompatibilityError(
                f"layer '{layer.name}' ({kind}): akida {akida.__version__} refuses it ({error}); change this "
                "layer's parameters or variables to values the Akida 1.0 layers take (docs/deployment.md)"
            ) from error
    if model.learning is not None:
        parameters = {name: getattr(model.learning, name) for name in OPTIMIZER_PARAMETERS}
        result.compile(akida.AkidaUnsupervised(**parameters))
        _copy_learning_state(model.layers[-1], result.layers[-1])
    return result


def _copy_learning_state(source, target) -> None:
    """Give `target` the weights and learning variables of `source`, and restart the swap counter of
    both (set_variable restarts it, docs/learning.md), so that the two go on learning identically."""
    for name in ("weights", *LEARNING_VARIABLES):
        target.set_variable(name, source.get_variable(name))
    source.set_variable("thswap", source.get_variable("thswap"))


# -- akida -> akq ----------------------------------------------------------------------------------
def _load(akida, source):
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise ModelFileError(f"{path}: no such akida model file (.fbz)")
        try:
            return akida.Model(str(path))
        except (RuntimeError, ValueError) as error:
            raise ModelFileError(f"{path}: akida {akida.__version__} cannot read this model file ({error}); "
                                 "check it is a complete .fbz written by akida") from error
    if not isinstance(source, akida.Model):
        raise NotAnAkidaModelError(f"from_akida expects an akida.Model or the path of a .fbz file, got "
                                   f"{type(source).__name__}")
    return source


def _akq_layer(akida, layer):
    """The akq layer with the parameters of akida `layer` (no variables yet)."""
    p, kind, name = layer.parameters, layer.parameters.layer_type.name, layer.name
    if kind not in AKIDA1_TYPES:
        raise AkidaCompatibilityError(
            f"layer '{name}' is an Akida 2.0 {kind} layer (a quantizeml / cnn2snn 2.x model); akq targets "
            f"Akida 1.0 (AKD1000) and reads only {', '.join(AKIDA1_TYPES)}: quantize and convert the Keras "
            "model with akq")
    keys = [key for key in dir(p) if not key.startswith("_")]  # LayerParams raise ValueError for absent keys
    if "input_signed" in keys and p.input_signed:
        raise AkidaCompatibilityError(f"layer '{name}' ({kind}) takes signed inputs, which akq does not model; "
                                      "use unsigned inputs (input_signed=False)")
    if "padding" in keys and akida.Padding(p.padding).name not in ("Same", "Valid"):
        raise AkidaCompatibilityError(f"layer '{name}' ({kind}): padding {akida.Padding(p.padding).name} has no "
                                      "Akida 1.0 equivalent; use Same or Valid")
    return layer_from_parameters(name, {key: int(getattr(p, key)) for key in keys} | {"layer_type": kind})


def from_akida(model_or_path):
    """An akq.Model from an akida.Model or a .fbz path, read through akida's layer parameters and variables."""
    import akq

    akida = import_akida()
    source = _load(akida, model_or_path)
    model = akq.Model()
    for layer in source.layers:
        model.add(_akq_layer(akida, layer))
        target = model.layers[-1]
        for name in layer.get_variable_names():
            if name not in LEARNING_VARIABLES:
                target.set_variable(name, layer.get_variable(name))
    if source.learning is not None:
        _compile_like(akq, model, source)
    return model


def _compile_like(akq, model, source) -> None:
    """Compile akq `model` for learning as the akida model `source` is, with its learning state."""
    parameters = {name: getattr(source.learning, name) for name in OPTIMIZER_PARAMETERS}
    for name in ("num_weights", "num_classes"):  # akida reports them as floats
        parameters[name] = int(parameters[name])
    try:
        model.compile(akq.AkidaUnsupervised(**parameters))
    except LearningError as error:
        raise AkidaCompatibilityError(
            f"the akida model is compiled for learning as akq cannot learn ({error}); compile it with "
            "num_classes >= 1 on a last layer without activation") from error
    _copy_learning_state(source.layers[-1], model.layers[-1])
