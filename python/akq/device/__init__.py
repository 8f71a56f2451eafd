"""The virtual AKD1000: mapping onto neural processors, hardware checks and the performance model."""

from .mapping import AKD1000, check_hardware, np_count
from .performance import Performance

__all__ = ["AKD1000", "Performance", "check_hardware", "np_count"]
