"""Rule violations found while converting: raised at once by convert(), gathered by the compatibility check."""

from __future__ import annotations

from ..errors import AkqError


class Problems:
    """Receives every broken rule. `collect=False` raises the first; `collect=True` keeps them all."""

    def __init__(self, collect: bool = False):
        self.collect = collect
        self.errors: list[AkqError] = []

    def add(self, error: AkqError) -> None:
        if not self.collect:
            raise error
        self.errors.append(error)

    def __bool__(self) -> bool:
        return bool(self.errors)
