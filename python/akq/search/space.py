"""The configurations a sweep visits: uniform bit widths (a grid) or one width per layer.

A configuration is a dict. Its first three keys are the arguments given to `akq.quantize`
(`weight_bits`, `activ_bits`, `input_weight_bits`); a per-layer configuration adds the width of every
other neural layer and of every activation by layer name, applied with `akq.quantize_layer`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from ..errors import SweepError

UNIFORM_KEYS = ("weight_bits", "activ_bits", "input_weight_bits")


@dataclass(frozen=True)
class Space:
    """The widths each configuration key may take (`choices`), plus the fixed ones (`fixed`)."""

    choices: dict[str, tuple[int, ...]]
    fixed: dict[str, int]

    @property
    def keys(self) -> tuple[str, ...]:
        return (*UNIFORM_KEYS, *(k for k in self.choices if k not in UNIFORM_KEYS))

    @property
    def size(self) -> int:
        count = 1
        for values in self.choices.values():
            count *= len(values)
        return count

    def config(self, values: dict) -> dict:
        """The configuration with the searched `values` and the fixed widths, keys in `self.keys` order."""
        merged = {**self.fixed, **values}
        return {key: int(merged[key]) for key in self.keys}

    def grid(self) -> list[dict]:
        """Every configuration, in a fixed order (the product of the choices)."""
        names = list(self.choices)
        return [self.config(dict(zip(names, values)))
                for values in itertools.product(*(self.choices[n] for n in names))]


def uniform_space(weight_bits, activ_bits, input_weight_bits) -> Space:
    """One width for all layers of each kind: the grid of `akq.quantize` arguments."""
    return Space({"weight_bits": _widths(weight_bits, "weight_bits"),
                  "activ_bits": _widths(activ_bits, "activ_bits"),
                  "input_weight_bits": _widths(input_weight_bits, "input_weight_bits")}, {})


def per_layer_space(layers: list[tuple[str, str]], weight_bits, activ_bits, input_weight_bits) -> Space:
    """A width per layer. `layers` are (name, kind) of the quantized model's layers after the first
    neural one, kind "weights" or "activations"; `akq.quantize` gets the widest choices."""
    weight_bits, activ_bits = _widths(weight_bits, "weight_bits"), _widths(activ_bits, "activ_bits")
    choices = {"input_weight_bits": _widths(input_weight_bits, "input_weight_bits")}
    for name, kind in layers:
        if name in UNIFORM_KEYS:
            raise SweepError(f"layer '{name}' has the name of a sweep setting; rename the layer")
        choices[name] = weight_bits if kind == "weights" else activ_bits
    return Space(choices, {"weight_bits": max(weight_bits), "activ_bits": max(activ_bits)})


def _widths(values, argument: str) -> tuple[int, ...]:
    values = (values,) if isinstance(values, int) else tuple(values)
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values):
        raise SweepError(f"{argument} must be one or more positive integer bit widths, got {values!r}")
    return tuple(sorted(set(values)))
