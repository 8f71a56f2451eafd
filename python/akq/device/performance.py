"""akq.Performance: cycles, latency, frames/s and energy of a mapped model on the AKD1000.

The model (csrc/akq/device/performance.hpp documents every assumption and constant) is event-driven:
it needs the events each layer received, which the engine counts during forward(). Typical use:

    model.map(akq.AKD1000())
    model.forward(images)
    print(akq.Performance(model))

`activity=` replaces the engine's counts (e.g. `assumed_activity(model, zero_fraction=0.5)` when no
representative input is at hand).
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import _core
from ..errors import EngineError, InputError
from ..table import table_lines

DEFAULT_CLOCK_HZ = _core.DEFAULT_CLOCK_HZ  # derived from the published AkidaNet run (csrc/akq/device/performance.hpp)


@dataclass(frozen=True)
class LayerPerformance:
    """Per-frame figures of one layer (software layers have cycles 0 and nps 0)."""

    name: str
    backend: str
    nps: int
    input_events: float
    output_events: float
    synaptic_ops: float
    cycles: float
    bottleneck_np: tuple[int, int, int] | None
    dynamic_energy_j: float
    program_bytes: int


def assumed_activity(model, zero_fraction: float) -> dict[str, tuple[float, float]]:
    """Per-frame (input events, output events) if a fraction `zero_fraction` of every activation is zero.

    The input layer sees every pixel of an InputConvolutional model (the HRC reads them densely).
    """
    if not 0.0 <= zero_fraction < 1.0:
        raise InputError(f"zero_fraction must be in [0, 1), got {zero_fraction}")
    density = 1.0 - zero_fraction
    activity = {}
    for layer in model.layers:
        if layer.parameters.layer_type == _core.LayerType.InputData:
            continue
        d0, d1, c = layer.input_dims
        o0, o1, f = layer.output_dims
        dense_input = layer.parameters.layer_type == _core.LayerType.InputConvolutional
        activity[layer.name] = (d0 * d1 * c * (1.0 if dense_input else density), o0 * o1 * f * density)
    return activity


def _engine_activity(model) -> dict[str, tuple[float, float, float]]:
    stats = model.statistics
    return {s.name: (s.input_events / s.samples, s.output_events / s.samples, s.synaptic_ops / s.samples)
            for s in stats.layers if s.samples}


class Performance:
    """Cycle-approximate estimate of a mapped model on the AKD1000, per frame.

    Parameters
    ----------
    model : akq.Model, mapped with `model.map(akq.AKD1000())`.
    clock_hz : chip clock for latency and frames/s (default DEFAULT_CLOCK_HZ, derived from the published run).
    activity : optional {layer name: (input_events, output_events[, synaptic_ops])} per frame; by default
        the engine's counts of the last forward()/predict()/evaluate().
    """

    def __init__(self, model, clock_hz: float = DEFAULT_CLOCK_HZ, activity=None):
        sequences = getattr(model, "sequences", None)
        if sequences is None:
            raise EngineError("Performance needs a mapped model: call model.map(akq.AKD1000()) first")
        if activity is None:
            activity = _engine_activity(model)
        entries = []
        for layer in model.layers:
            if layer.parameters.layer_type == _core.LayerType.InputData:
                continue
            if layer.name not in activity:
                raise InputError(f"no activity for layer '{layer.name}': give (input_events, output_events) "
                                 "per frame for every layer, or run model.forward() first")
            values = tuple(float(v) for v in activity[layer.name])
            entry = _core.LayerActivity()
            entry.input_events, entry.output_events = values[0], values[1]
            if len(values) > 2:
                entry.synaptic_ops = values[2]
            entries.append(entry)
        report = _core.estimate_performance(model.spec, sequences.core_mapping, entries, float(clock_hz))
        self.layers = [LayerPerformance(p.layer, p.backend.name, p.nps, p.input_events, p.output_events,
                                        p.synaptic_ops, p.cycles,
                                        tuple(p.bottleneck_np) if p.backend.name == "Hardware" else None,
                                        p.dynamic_energy_j, p.program_bytes) for p in report.layers]
        self.clock_hz = report.clock_hz
        self.frame_cycles = report.frame_cycles        # latency of one frame, in cycles
        self.pipeline_cycles = report.pipeline_cycles  # per frame in a stream (slowest layer)
        self.bottleneck_layer = report.bottleneck_layer
        self.latency_s = report.latency_s
        self.frames_per_s = report.frames_per_s
        self.dynamic_energy_j = report.dynamic_energy_j
        self.static_energy_j = report.static_energy_j
        self.program_bytes = report.program_bytes
        self.nps = report.hardware_nps

    @property
    def energy_per_frame_j(self) -> float:
        return self.dynamic_energy_j + self.static_energy_j

    def clocks(self, frames: int = 1) -> float:
        """Cycles to process `frames` frames in a stream: one latency, then one slowest layer per frame."""
        if frames < 1:
            raise InputError(f"frames must be at least 1, got {frames}")
        return self.frame_cycles + (frames - 1) * self.pipeline_cycles

    def __str__(self):
        rows = table_lines([("Layer", 24, lambda p: p.name, ""),
                            ("backend", 9, lambda p: p.backend, ""),
                            ("NPs", 5, lambda p: p.nps, ""),
                            ("in events", 12, lambda p: p.input_events, ".0f"),
                            ("out events", 12, lambda p: p.output_events, ".0f"),
                            ("syn. ops", 14, lambda p: p.synaptic_ops, ".0f"),
                            ("cycles", 12, lambda p: p.cycles, ".0f"),
                            ("dyn. uJ", 9, lambda p: p.dynamic_energy_j * 1e6, ".2f")], self.layers)
        rows.append("-" * len(rows[0]))
        rows.append(f"{self.nps} NPs, program {self.program_bytes} bytes; per frame: {self.frame_cycles:.0f} cycles "
                    f"latency ({self.latency_s * 1e3:.3f} ms at {self.clock_hz / 1e6:.0f} MHz), "
                    f"{self.pipeline_cycles:.0f} cycles in a stream ({self.frames_per_s:.1f} frames/s, "
                    f"bottleneck {self.bottleneck_layer}); energy {self.energy_per_frame_j * 1e3:.3f} mJ "
                    f"({self.dynamic_energy_j * 1e3:.3f} dynamic + {self.static_energy_j * 1e3:.3f} static)")
        return "\n".join(rows)

    def __repr__(self):
        return f"<akq.Performance {self.nps} NPs, {self.frame_cycles:.0f} cycles/frame>\n{self}"
