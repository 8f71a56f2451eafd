"""Hardware-aware bit-width search: `akq.sweep` and `akq.SweepResult` (in-process or on Ray Tune)."""

from .result import SweepResult
from .run import sweep

__all__ = ["SweepResult", "sweep"]
