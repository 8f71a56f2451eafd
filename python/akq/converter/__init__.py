"""Keras quantized model -> akq integer model (docs/spec B): `convert` and `check_model_compatibility`.

Pipeline: graph (Keras -> plain nodes) -> scaling (B.1) -> rewrite (B.2, BN folding in C++) -> blocks
(B.3) -> lowering (B.4-B.6, thresholds in C++) -> akq.Model; diagnostics reports likely divergences.
"""

from __future__ import annotations

from ..model.model import Model
from ..errors import AkqError, ConversionError
from ..extras import require
from .blocks import group_blocks
from .diagnostics import ConversionReport, diagnose
from .graph import read_model
from .lowering import lower
from .problems import Problems
from .rewrite import prepare
from .scaling import take_input_scaling

__all__ = ["ConversionReport", "check_model_compatibility", "convert", "convert_with_report"]


def convert(model, file_path=None, input_scaling=None, verbose: bool = False) -> Model:
    """Convert a quantized Keras model to an akq.Model.

    Parameters
    ----------
    model : keras.Model
        Sequential or linear functional model of akq quantized layers.
    file_path : str or Path, optional
        If given, the converted model is also saved there (.akq).
    input_scaling : (float, float), optional
        (a, s) such that the integer input is a * x + s for the Keras input x; not allowed when the model
        starts with a Rescaling layer (which defines it).
    verbose : bool
        Print the conversion report (see `convert_with_report`).
    """
    layers = _run(model, input_scaling, Problems(collect=False))
    converted = _model(layers)
    if verbose:
        print(diagnose(layers))
    if file_path is not None:
        converted.save(file_path)
    return converted


def convert_with_report(model, input_scaling=None) -> tuple[Model, ConversionReport]:
    """`convert`, also returning the per-layer report of where the integer model may diverge from Keras."""
    layers = _run(model, input_scaling, Problems(collect=False))
    return _model(layers), diagnose(layers)


def _model(layers) -> Model:
    from .. import _core

    spec = _core.ModelSpec()
    spec.layers = [layer.spec for layer in layers]
    return Model._from_spec(spec)


def check_model_compatibility(model, input_scaling=None) -> bool:
    """True if `model` converts; otherwise print every rule it breaks and return False."""
    problems = Problems(collect=True)
    try:
        _run(model, input_scaling, problems)
    except AkqError as error:  # a rule that stops the conversion early (e.g. the graph is not linear)
        problems.errors.append(error)
    for error in problems.errors:
        print(f"{type(error).__name__}: {error}")
    return not problems


def _run(model, input_scaling, problems: Problems):
    _require_eager()
    graph = read_model(model, problems)
    if graph is None:
        return None
    image_input = len(graph.input_shape) == 3 and graph.input_shape[-1] in (1, 3) or \
        (len(graph.input_shape) == 1 and graph.input_shape[0] in (1, 3))
    scaling, nodes = take_input_scaling(graph.nodes, input_scaling, image_input, problems)
    nodes = prepare(nodes, problems)
    blocks = group_blocks(nodes, image_input, problems)
    if not blocks:
        problems.add(ConversionError(f"model '{graph.name}' has no neural layer to convert"))
    if problems:
        return None
    return lower(graph.name, graph.input_shape, image_input, blocks, scaling, problems)


def _require_eager() -> None:
    tf = require("tensorflow", "akq.convert")

    if not tf.executing_eagerly():
        raise ConversionError("TensorFlow eager execution is disabled; akq.convert needs it to evaluate the "
                              "weight quantizers: call tf.config.run_functions_eagerly(True) or convert "
                              "outside tf.function / compat.v1 graph mode")
