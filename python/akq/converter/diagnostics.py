"""What a converted model will do differently from its Keras model, per layer, before deployment.

* potential units per Keras activation step (S * sigma): below ~4 the integer activations drift from
  Keras' (flooring of thresholds, 1/16 step resolution; docs/spec F.4 item 9);
* scale factors at the quantizers' clip of 1000 (tiny weights, often from tiny batch-norm gammas; docs/spec A.1, F.4 item 7);
* a non-integer input shift (InputConvolutional pads with its truncation; docs/spec B.1);
* thresholds and steps beyond what the AKD1000 can store (docs/spec D.4): map() would put the layer in software.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import _core
from .lowering import LoweredLayer

LOW_UNITS_PER_STEP = 4.0   # docs/spec F.4 item 9: Keras agreement collapses below this
SCALE_FACTOR_CLIP = np.float32(_core.SCALE_FACTOR_MAX)


@dataclass
class LayerDiagnostics:
    name: str
    layer_type: str
    keras_layers: list[str]
    units_per_step_min: float | None = None
    units_per_step_median: float | None = None
    clipped_scale_factors: int = 0
    notes: list[str] = field(default_factory=list)   # things that make the integer model diverge

    def line(self) -> str:
        units = "" if self.units_per_step_min is None else \
            f"{self.units_per_step_min:10.3g} {self.units_per_step_median:10.3g}"
        return f"{self.name:<28}{self.layer_type:<24}{units:<22}{self.clipped_scale_factors:>6}"


@dataclass
class ConversionReport:
    layers: list[LayerDiagnostics]

    @property
    def warnings(self) -> list[str]:
        return [f"{layer.name}: {note}" for layer in self.layers for note in layer.notes]

    def __str__(self) -> str:
        lines = [f"{'layer':<28}{'type':<24}{'units/step min, median':<22}{f'sf@{SCALE_FACTOR_CLIP:g}':>7}"]
        lines += [layer.line() for layer in self.layers]
        lines += ["warnings:" if self.warnings else "no warnings"] + [f"  - {w}" for w in self.warnings]
        return "\n".join(lines)


def diagnose(layers: list[LoweredLayer]) -> ConversionReport:
    return ConversionReport([_layer(lowered, index) for index, lowered in enumerate(layers)])


def _layer(lowered: LoweredLayer, index: int) -> LayerDiagnostics:
    spec, block = lowered.spec, lowered.block
    d = LayerDiagnostics(spec.name, spec.type.name, [] if block is None else block.label.strip("'").split(" + "))
    if block is None:
        return d
    units = lowered.potential_step
    d.units_per_step_min, d.units_per_step_median = float(units.min()), float(np.median(units))
    if block.activation is not None and spec.act_bits > 1 and d.units_per_step_min < LOW_UNITS_PER_STEP:
        low = int(np.sum(units < LOW_UNITS_PER_STEP))
        d.notes.append(
            f"{low}/{units.size} filters have fewer than {LOW_UNITS_PER_STEP:g} potential units per Keras "
            f"activation step (min {d.units_per_step_min:.3g}): their higher activation levels will often "
            "differ from Keras; raise the weight bitwidth or this activation's step")
    d.clipped_scale_factors = int(np.sum(np.atleast_1d(lowered.scale_factor) >= SCALE_FACTOR_CLIP))
    if d.clipped_scale_factors:
        d.notes.append(
            f"{d.clipped_scale_factors} scale factors hit the {SCALE_FACTOR_CLIP:g} clip (tiny weights, e.g. from small batch-norm "
            "gammas): those weights round to few levels. Constrain gammas (add_gamma_constraint) and retrain")
    shift = lowered.input_scaling.shift if lowered.input_scaling else 0.0
    if index <= 1 and shift != 0.0:
        if spec.type == _core.LayerType.InputConvolutional and shift != int(shift):
            d.notes.append(
                f"input shift {shift:g} is not an integer: the thresholds use it exactly but 'same' padding "
                f"pads with its truncation {int(shift)}, so border outputs can differ slightly")
        elif spec.type != _core.LayerType.InputConvolutional and spec.padding == _core.Padding.Same \
                and spec.type != _core.LayerType.FullyConnected:
            d.notes.append(
                f"input shift {shift:g} is folded into the thresholds, but 'same' padding pads the integer "
                f"input with 0 (= Keras value {-shift / lowered.input_scaling.scale:g}): border outputs can differ")
    if block.neural.channel_scale is not None:
        flipped = int(np.sum(block.neural.channel_scale < 0))
        d.notes.append(
            f"batch norm {block.neural.folded} folded into the thresholds and steps (per-tensor weights kept "
            f"as trained{f', {flipped} channels negated' if flipped else ''})")
    for node in block.dropped:
        d.notes.append(f"final activation {node.label} is not converted: the integer model outputs the values "
                       "before it (predict gives logits)")
    ranges = _core.fire_range_report(spec)
    if ranges.thresholds_out_of_range:
        d.notes.append(
            f"{ranges.thresholds_out_of_range} thresholds do not fit {ranges.threshold_bits}-bit signed hardware "
            f"registers (worst {ranges.worst_threshold}): map() will run this layer in software")
    if ranges.steps_out_of_range:
        d.notes.append(
            f"{ranges.steps_out_of_range} act_steps exceed the {ranges.step_bits}-bit hardware step (worst "
            f"{ranges.worst_step:.6g}): map() will run this layer in software")
    return d
