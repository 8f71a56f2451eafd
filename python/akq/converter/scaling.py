"""Input scaling (docs/spec B.1): x_akq = a * x_keras + s, from `input_scaling` or a leading Rescaling layer."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import InputScalingError, LayerOrderError, UnsupportedLayerError
from .nodes import Node, RescalingNode
from .problems import Problems


@dataclass(frozen=True)
class InputScaling:
    scale: float = 1.0   # a
    shift: float = 0.0   # s


def take_input_scaling(nodes: list[Node], input_scaling, image_input: bool,
                       problems: Problems) -> tuple[InputScaling, list[Node]]:
    """The model's input scaling and the nodes without the leading Rescaling it came from."""
    leading = [n for n in nodes[:2] if isinstance(n, RescalingNode)]
    if leading and input_scaling is not None:
        problems.add(InputScalingError(
            f"the model starts with Rescaling layer '{leading[0].name}', which already defines the input "
            f"scaling; pass input_scaling=None (got {input_scaling!r}) or remove the layer"))
    for position, node in enumerate(nodes):
        if isinstance(node, RescalingNode) and position > 0:
            problems.add(LayerOrderError(
                f"Rescaling layer '{node.name}' must be the first layer of the model; move it to the front "
                "or remove it and pass input_scaling to akq.convert"))
    if nodes and isinstance(nodes[0], RescalingNode):
        return _from_rescaling(nodes[0], image_input, problems), nodes[1:]
    return _from_argument(input_scaling, problems), nodes


def _from_rescaling(node: RescalingNode, image_input: bool, problems: Problems) -> InputScaling:
    if not image_input:
        problems.add(UnsupportedLayerError(
            f"layer '{node.name}': unsupported type Rescaling in a model whose input is not an image (1 or 3 "
            "channels): its inputs go to an InputData layer as integers. Remove the layer and feed integer "
            "inputs, passing input_scaling=(a, s) with x_int = a * x + s"))
        return InputScaling()
    if node.scale.size != 1 or node.offset.size != 1:
        problems.add(UnsupportedLayerError(
            f"Rescaling layer '{node.name}' rescales per channel (scale {node.scale.tolist()}, offset "
            f"{node.offset.tolist()}); akq supports one scale and one offset for the whole input"))
        return InputScaling()
    scale, offset = float(node.scale.item()), float(node.offset.item())
    if not (scale > 0 and math.isfinite(scale) and math.isfinite(offset)):
        problems.add(InputScalingError(
            f"Rescaling layer '{node.name}' has scale {scale} and offset {offset}; the scale must be finite "
            "and strictly positive (inputs are unsigned integers)"))
        return InputScaling()
    return _checked_shift(InputScaling(1.0 / scale, -offset / scale), f"Rescaling layer '{node.name}'", problems)


def _from_argument(input_scaling, problems: Problems) -> InputScaling:
    if input_scaling is None:
        return InputScaling()
    try:
        scale, shift = (float(v) for v in input_scaling)
    except (TypeError, ValueError):
        problems.add(InputScalingError(
            f"input_scaling must be a pair (scale, shift) of numbers, got {input_scaling!r}"))
        return InputScaling()
    if not (scale > 0 and math.isfinite(scale)) or not math.isfinite(shift):
        problems.add(InputScalingError(
            f"the scale factor 'input_scaling[0]' must be finite and strictly positive, and the shift finite; "
            f"got input_scaling={input_scaling!r} (inputs are a * x + s, unsigned integers)"))
        return InputScaling()
    return _checked_shift(InputScaling(scale, shift), "input_scaling", problems)


def _checked_shift(scaling: InputScaling, source: str, problems: Problems) -> InputScaling:
    """The shift becomes an int32 padding value: refuse shifts beyond that range."""
    if abs(scaling.shift) < 2.0**31:
        return scaling
    problems.add(InputScalingError(
        f"the input shift {scaling.shift:g} from {source} is beyond the int32 range of the padding value; "
        "integer inputs are bytes, so the shift should be within [-255, 255]"))
    return InputScaling()
