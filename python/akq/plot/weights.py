"""Figures and tables of quantized weights: what discretization does to a kernel, and per layer.

Figures are drawn on matplotlib `Figure` objects with the Agg canvas (no pyplot, no screen, no global
state) and written to PNG files. This module imports neither TensorFlow nor Keras: it works on arrays
and on models the caller already built.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ..errors import QuantizationError
from .figure import save_figure

_MAX_LABELLED_BARS = 16  # bars are labelled with their value up to this many


def plot_discretized_weights(w, wq, path, xlim=None, title: str | None = None) -> Path:
    """Side by side: the histogram of the float weights `w` and the counts of the discretized values `wq`.

    Parameters
    ----------
    w, wq : array-like
        Original and fake-quantized weights (any shape).
    path : str or Path
        PNG file to write (parent folders are created).
    xlim : (float, float), optional
        Common x range of both panels (default: the range of `w` and `wq`).
    title : str, optional
        Figure title.

    Returns
    -------
    Path
        `path`.
    """
    w, wq = np.asarray(w, np.float32).ravel(), np.asarray(wq, np.float32).ravel()
    values, counts = np.unique(wq, return_counts=True)
    if xlim is None:
        low, high = min(w.min(), wq.min()), max(w.max(), wq.max())
        margin = 0.05 * (high - low or 1.0)
        xlim = (low - margin, high + margin)
    spacing = np.diff(values).min() if len(values) > 1 else (xlim[1] - xlim[0]) / 50

    fig = Figure(figsize=(9, 3.4), layout="tight")
    original, discretized = fig.subplots(1, 2, sharex=True)
    original.hist(w, bins=50, color="tab:blue")
    original.set_title("Original weights")
    bars = discretized.bar(values, counts, width=0.6 * spacing, color="tab:orange")
    if len(values) <= _MAX_LABELLED_BARS:
        discretized.bar_label(bars, fontsize=7)
    discretized.set_title(f"Discretized weights ({len(values)} values)")
    for ax in (original, discretized):
        ax.set_xlim(xlim)
        ax.set_xlabel("weight value")
        ax.set_ylabel("count")
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)


@dataclass(frozen=True)
class KernelStats:
    """What quantization does to one kernel of a quantized layer."""

    layer: str
    layer_class: str
    kernel: str
    shape: tuple
    quantizer: str
    bitwidth: int
    scale_factors: np.ndarray  # shape (1,) per tensor, (filters,) per axis
    int_weights: np.ndarray  # rne(quantized kernel * sf), in [-kmax, kmax]

    @property
    def kmax(self) -> int:
        return 2 ** (self.bitwidth - 1) - 1

    @property
    def levels_available(self) -> int:
        return 2 * self.kmax + 1

    @property
    def levels_used(self) -> int:
        return len(np.unique(self.int_weights))

    @property
    def zero_fraction(self) -> float:
        return float(np.mean(self.int_weights == 0))

    @property
    def saturated_fraction(self) -> float:
        return float(np.mean(np.abs(self.int_weights) == self.kmax))

    def row(self) -> dict:
        """A flat dict of printable figures (for tables and the command line)."""
        return {
            "layer": self.layer,
            "kernel": self.kernel,
            "shape": "x".join(map(str, self.shape)),
            "quantizer": self.quantizer,
            "bits": self.bitwidth,
            "sf_min": float(self.scale_factors.min()),
            "sf_max": float(self.scale_factors.max()),
            "levels": f"{self.levels_used}/{self.levels_available}",
            "zero_%": 100 * self.zero_fraction,
            "saturated_%": 100 * self.saturated_fraction,
        }


def weight_stats(model) -> list[KernelStats]:
    """One KernelStats per quantized kernel of `model` (layers with `quantized_kernels()`), in layer order."""
    stats = []
    for layer in model.layers:
        if not hasattr(layer, "quantized_kernels"):
            continue
        for name, (variable, quantizer) in layer.quantized_kernels().items():
            sf = np.asarray(quantizer.scale_factor(variable), np.float32)
            wq = np.asarray(quantizer.quantize(variable), np.float32)
            stats.append(KernelStats(
                layer=layer.name,
                layer_class=type(layer).__name__,
                kernel=name,
                shape=tuple(variable.shape),
                quantizer=type(quantizer).__name__,
                bitwidth=quantizer.bitwidth,
                scale_factors=np.atleast_1d(sf),
                int_weights=np.round(wq * sf).astype(np.int32),
            ))
    return stats


def format_weight_stats(stats: list[KernelStats]) -> str:
    """A plain-text table of `weight_stats(model)`, one line per kernel."""
    rows = [s.row() for s in stats]
    if not rows:
        return "no quantized layers"
    cells = [[_cell(value) for value in row.values()] for row in rows]
    header = list(rows[0])
    widths = [max(len(text) for text in column) for column in zip(header, *cells, strict=True)]
    lines = ["  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
             for line in [header, *cells]]
    return "\n".join([lines[0], "  ".join("-" * width for width in widths), *lines[1:]])


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def plot_weight_stats(model_or_stats, path) -> Path:
    """Per quantized kernel: counts of its integer weight levels, and its scale factor per output channel.

    `model_or_stats` is a Keras model with akq quantized layers or the list `weight_stats(model)` returns.
    Writes a PNG to `path` and returns it.
    """
    stats = model_or_stats if isinstance(model_or_stats, list) else weight_stats(model_or_stats)
    if not stats:
        raise QuantizationError("plot_weight_stats: the model has no quantized layers (akq QuantizedConv2D, "
                         "QuantizedSeparableConv2D, QuantizedDepthwiseConv2D or QuantizedDense) to show.")
    fig = Figure(figsize=(10, 2.3 * len(stats) + 0.4), layout="constrained")
    axes = fig.subplots(len(stats), 2, squeeze=False, width_ratios=(3, 2))
    for s, (levels_ax, sf_ax) in zip(stats, axes, strict=True):
        values, counts = np.unique(s.int_weights, return_counts=True)
        levels_ax.bar(values, counts, width=0.8, color="tab:orange")
        levels_ax.set_xlim(-s.kmax - 0.7, s.kmax + 0.7)
        levels_ax.set_title(f"{s.layer} {s.kernel} ({s.quantizer}, {s.bitwidth} bits): "
                            f"{s.levels_used}/{s.levels_available} levels used", fontsize=9)
        levels_ax.set_ylabel("count")
        channels = np.arange(len(s.scale_factors))
        bars = sf_ax.bar(channels, s.scale_factors, width=0.8, color="tab:green")
        if len(channels) <= _MAX_LABELLED_BARS:
            sf_ax.bar_label(bars, fmt="%.4g", fontsize=7)
        sf_ax.margins(y=0.2)
        sf_ax.set_title("scale factor" + (" per output channel" if len(channels) > 1 else " (per tensor)"),
                        fontsize=9)
        sf_ax.set_xticks(channels if len(channels) <= 16 else channels[:: max(1, len(channels) // 8)])
    axes[-1][0].set_xlabel("integer weight")
    axes[-1][1].set_xlabel("output channel")
    return save_figure(fig, path)
