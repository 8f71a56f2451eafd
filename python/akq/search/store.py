"""The CSV rows of a sweep stream to: one line per configuration, appended as soon as it is measured.

An interrupted sweep restarted on the same file reuses the rows already there and runs only the missing
configurations. Each line carries the sweep's digest (model, data and settings), so rows of another
sweep are never taken for this one's.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from ..errors import SweepError
from .objective import METRICS

_INTS = {"nps"}


def columns(keys) -> list[str]:
    return [*keys, *METRICS, "sweep"]


def to_cells(config: dict, row: dict, digest: str) -> list[str]:
    """The CSV cells of a row (floats in full precision, so a resumed row equals a recomputed one)."""
    values = [*config.values(), *(row[m] for m in METRICS), digest]
    return ["" if v is None else repr(v) if isinstance(v, float) else str(v) for v in values]


def from_cells(record: dict, keys) -> tuple[dict, dict]:
    """(config, row) of a CSV record (a dict of strings)."""
    config = {key: int(record[key]) for key in keys}
    row = {}
    for metric in METRICS:
        text = record[metric]
        if metric == "error":
            row[metric] = text
        elif text == "":
            row[metric] = None
        elif metric == "fits":
            row[metric] = text == "True"
        else:
            row[metric] = int(text) if metric in _INTS else float(text)
    return config, row


def write_csv(path, keys, items, digest: str) -> Path:
    """Write (config, row) `items` to `path` with the header of `keys` (atomically)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(columns(keys))
        writer.writerows(to_cells(config, row, digest) for config, row in items)
    os.replace(temporary, path)
    return path


def read_csv(path, keys, digest: str) -> dict[tuple, dict]:
    """The rows of `path` by config tuple; SweepError if the file belongs to another sweep."""
    with Path(path).open(newline="") as stream:
        reader = csv.DictReader(stream)
        if reader.fieldnames != columns(keys):
            raise SweepError(f"{path}: its columns {reader.fieldnames} are not this sweep's {columns(keys)}; "
                             "give another CSV file or delete this one")
        records = list(reader)
    done = {}
    for number, record in enumerate(records, start=2):
        if None in record.values():  # a line cut short by an interruption: that config runs again
            continue
        if record["sweep"] != digest:
            raise SweepError(f"{path}, line {number}: a row of another sweep (different model, data, "
                             "fine-tuning, input scaling or seed); give another CSV file or delete this one")
        config, row = from_cells(record, keys)
        done[tuple(config.values())] = row
    return done


class RowStore:
    """Rows by configuration (`done`), appended to `path` (if any) as they arrive."""

    def __init__(self, path, keys, digest: str):
        self.path = None if path is None else Path(path)
        self.keys, self.digest = tuple(keys), digest
        self.done: dict[tuple, dict] = {}
        if self.path is not None and self.path.is_file() and self.path.stat().st_size:
            self.done = read_csv(self.path, self.keys, digest)
        if self.path is not None:  # rewritten whole: a line an interruption cut short is dropped
            write_csv(self.path, self.keys, [(dict(zip(self.keys, k)), r) for k, r in self.done.items()], digest)
        self.resumed = len(self.done)

    def add(self, config: dict, row: dict) -> None:
        self.done[tuple(config.values())] = row
        if self.path is not None:
            with self.path.open("a", newline="") as stream:
                csv.writer(stream).writerow(to_cells(config, row, self.digest))

    def finish(self, configs: list[dict]) -> None:
        """Rewrite the file with the rows of `configs`, in that order."""
        if self.path is not None:
            write_csv(self.path, self.keys, [(c, self.done[tuple(c.values())]) for c in configs], self.digest)
