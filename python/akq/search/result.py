"""`akq.SweepResult`: the rows of a sweep, their Pareto front, a table, a CSV and a plot."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .store import write_csv

#: What the front trades off: (row key, True if higher is better).
FRONT = (("integer_accuracy", True), ("energy_mj", False), ("latency_ms", False))


@dataclass
class SweepResult:
    """One row per configuration, in the order the search proposed them.

    Each row is a dict: `config` (the widths, see `akq.sweep`), `quantized_accuracy` (Keras),
    `integer_accuracy` (akq engine), `nps`, `fits` (every layer on the AKD1000), `latency_ms`, `fps`,
    `energy_mj` and `error` ("" or why the converter or the mapper refused the configuration).
    """

    rows: list[dict]
    digest: str = ""
    stats: dict = field(default_factory=dict)  # planned, resumed, ran, retried, seconds

    def pareto(self) -> list[dict]:
        """The rows that fit the chip and that no other fitting row beats on integer accuracy, energy and
        latency at once (at least as good on all three and better on one), in row order."""
        candidates = [r for r in self.rows if r["fits"] and not r["error"]]
        scores = [tuple(r[k] if up else -r[k] for k, up in FRONT) for r in candidates]
        return [row for row, s in zip(candidates, scores)
                if not any(all(o >= v for o, v in zip(other, s)) and other != s for other in scores)]

    def to_csv(self, path) -> Path:
        """Write the rows as CSV (the format sweeps stream to and resume from)."""
        keys = list(self.rows[0]["config"]) if self.rows else []
        return write_csv(path, keys, [(row["config"], row) for row in self.rows], self.digest)

    def plot(self, path, title: str | None = None) -> Path:
        """Integer accuracy against energy and against latency per frame, the front marked; a PNG."""
        from .plot import plot_sweep

        return plot_sweep(self, path, title)

    def table(self) -> str:
        """The rows as a text table, front rows starred."""
        front = {id(r) for r in self.pareto()}
        keys = list(self.rows[0]["config"]) if self.rows else []
        heads = [*(_short(k) for k in keys), "Keras %", "engine %", "NPs", "fits", "ms/frame", "frames/s", "mJ/frame"]
        lines = []
        for row in self.rows:
            cells = [*(str(v) for v in row["config"].values()), _percent(row["quantized_accuracy"]),
                     _percent(row["integer_accuracy"]), _value(row["nps"], "d"), "yes" if row["fits"] else "no",
                     _value(row["latency_ms"], ".4f"), _value(row["fps"], ",.0f"), _value(row["energy_mj"], ".4f")]
            lines.append(("*" if id(row) in front else " ", cells, row["error"]))
        widths = [max(len(h), *(len(c[i]) for _, c, _ in lines)) for i, h in enumerate(heads)]
        def join(cells):
            return "  ".join(f"{c:>{w}}" for c, w in zip(cells, widths))
        text = [f"akq sweep: {len(self.rows)} configurations, {sum(bool(r['fits']) for r in self.rows)} fit the "
                f"AKD1000, {len(front)} on the Pareto front (*: integer accuracy vs energy and latency)",
                "  " + join(heads), "  " + "-" * len(join(heads))]
        text += [f"{star} {join(cells)}" + (f"  {error}" if error else "") for star, cells, error in lines]
        long_names = [k for k in keys if _short(k) != k]
        if long_names:
            text.append("  columns: " + ", ".join(f"{_short(k)} = {k}" for k in long_names))
        return "\n".join(text)

    def __str__(self):
        return self.table()

    def __repr__(self):
        return f"<akq.SweepResult {len(self.rows)} rows, {len(self.pareto())} on the Pareto front>"


_SHORT = {"weight_bits": "W", "activ_bits": "A", "input_weight_bits": "I"}


def _short(key: str) -> str:
    return _SHORT.get(key, key)


def _percent(value) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def _value(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)
