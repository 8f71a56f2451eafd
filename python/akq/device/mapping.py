"""The virtual AKD1000: mapping a model onto its neural processors and checking the chip's limits.

The rules live in the C++ core (csrc/akq/device); this module gives them the reference's Python shape:
`model.map(akq.AKD1000(), hw_only=False)` sets `model.sequences` and every layer's `mapping.nps`, and
`akq.check_hardware(model)` lists every problem at once. Unlike the reference, forward/predict keep
working after map(): the engine computes the same arithmetic either way.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import _core
from ..errors import LayerError

NpType = _core.NpType
Backend = _core.Backend


class AKD1000:
    """The Akida 1.0 NSoC as the reference's virtual device: 78 NPs in a 4x5 node mesh plus the HRC."""

    def __init__(self):
        self._device = _core.akd1000()

    @property
    def name(self) -> str:
        return self._device.name

    @property
    def version(self) -> str:
        return self._device.version

    @property
    def nps(self) -> list:
        """The neural processors (`ident` (col, row, id), `types` they can take), in allocation order."""
        return list(self._device.nps)

    @property
    def hrc(self) -> tuple[int, int, int]:
        return tuple(self._device.hrc)

    def __repr__(self):
        return f"<akq.AKD1000 {self.version}: {len(self._device.nps)} NPs + HRC>"


@dataclass(frozen=True)
class NP:
    """One neural processor allocated to a layer."""

    ident: tuple[int, int, int]
    type: NpType
    filters: int


@dataclass(frozen=True)
class LayerMapping:
    """Where a hardware layer runs (`layer.mapping`; software layers have mapping None)."""

    nps: list[NP]


@dataclass(frozen=True)
class Pass:
    """Layers programmed together on the NPs (a sequence needs several when it exceeds the chip)."""

    layers: list


@dataclass(frozen=True)
class Sequence:
    """Consecutive layers on one backend: name `HW/<first>-<last>` or `SW/<first>-<last>`."""

    name: str
    backend: Backend
    passes: list[Pass]
    program_size: int | None  # bytes of the hardware program (an estimate), None for software

    @property
    def layers(self) -> list:
        return [layer for p in self.passes for layer in p.layers]


class Sequences(list):
    """`model.sequences`: the list of Sequence, with the core mapping the performance model reads."""

    def __init__(self, sequences, core_mapping, device):
        super().__init__(sequences)
        self.core_mapping = core_mapping
        self.device = device


@dataclass(frozen=True)
class HardwareProblem:
    """One reason a layer cannot run on the chip: `kind` is 'mapping' or 'programming'."""

    layer: str
    kind: str
    reason: str
    hint: str
    message: str

    def __str__(self):
        return self.message


def _check_device(device):
    if not isinstance(device, AKD1000):
        raise LayerError(f"map() expects a device such as akq.AKD1000(), got {type(device).__name__}")


_MODES = {"minimal": _core.MapMode.Minimal, "all_nps": _core.MapMode.AllNps}


def map_layers(spec, layers, device, hw_only: bool = False, mode: str = "minimal"):
    """({layer name: LayerMapping} of the hardware layers, Sequences) of a model's `spec` on `device`.

    `layers` are the model's layer objects, in order: the sequences list them. See `akq.Model.map`.
    """
    _check_device(device)
    if mode not in _MODES:
        raise LayerError(f"map mode must be one of {sorted(_MODES)}, got {mode!r}")
    mapping = _core.map_model(spec, device._device, bool(hw_only), _MODES[mode])
    by_name = {layer.name: layer for layer in layers}
    mappings = {entry.layer: LayerMapping([NP(tuple(np.ident), np.type, np.filters) for np in entry.nps])
                for entry in mapping.layers if entry.nps}
    sequences = []
    for seq in mapping.sequences:
        hardware = seq.backend == Backend.Hardware
        sequences.append(Sequence(seq.name, seq.backend, [Pass([by_name[n] for n in p]) for p in seq.passes],
                                  seq.program_bytes if hardware else None))
    return mappings, Sequences(sequences, mapping, device)


def check_hardware(model) -> list[HardwareProblem]:
    """Every problem that keeps a layer of `model` off the AKD1000, without raising.

    Structural limits (kernel, stride, pooling, bits, sizes, NP capacity), programming ranges (thresholds
    and act_step against their register widths) and sequence rules are all checked, as if the whole model
    had to run on the chip (`map(..., hw_only=True)` raises the first of them). An empty list means the
    model maps entirely on hardware.
    """
    if not model.layers:
        return []
    return [HardwareProblem(p.layer, p.kind.name.lower(), p.reason, p.hint, p.message)
            for p in _core.check_hardware(model.spec)]


def np_count(model) -> int:
    """NPs used by the mapped model (the HRC excluded, as the reference's summary counts)."""
    return sum(len([np for np in layer.mapping.nps if np.type != NpType.HRC])
               for layer in model.layers if layer.mapping is not None)
