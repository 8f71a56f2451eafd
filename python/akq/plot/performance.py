"""Per-layer chart of an akq.Performance report: events, cycles and NPs of every layer, saved to PNG.

Drawn on a matplotlib `Figure` with the Agg canvas (no pyplot, no screen), like the other akq plots.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .figure import save_figure


def plot_performance(performance, path, title: str | None = None) -> Path:
    """Three stacked panels per layer: input/output events, cycles (bottleneck layer highlighted), NPs.

    Parameters
    ----------
    performance : akq.Performance
        The report of a mapped model (see `akq.Performance`).
    path : str or Path
        PNG file to write (parent folders are created).
    title : str, optional
        Figure title (default: NPs, cycles per frame and frames/s).
    """
    layers = performance.layers
    names = [layer.name for layer in layers]
    x = np.arange(len(layers))
    fig = Figure(figsize=(max(6.0, 0.5 * len(layers) + 2), 8))
    events, cycles, nps = fig.subplots(3, 1, sharex=True)
    width = 0.4
    events.bar(x - width / 2, [layer.input_events for layer in layers], width, label="input events")
    events.bar(x + width / 2, [layer.output_events for layer in layers], width, label="output events")
    events.set_ylabel("events / frame")
    events.legend(loc="upper right")
    colors = ["tab:red" if layer.name == performance.bottleneck_layer else "tab:blue" for layer in layers]
    cycles.bar(x, [layer.cycles for layer in layers], color=colors)
    cycles.set_ylabel("cycles / frame")
    nps.bar(x, [layer.nps for layer in layers], color="tab:green")
    nps.set_ylabel("NPs")
    nps.yaxis.set_major_locator(MaxNLocator(integer=True))
    nps.set_xticks(x, names, rotation=60, ha="right", fontsize=8)
    fig.suptitle(title or f"{performance.nps} NPs, {performance.frame_cycles:,.0f} cycles/frame, "
                          f"{performance.frames_per_s:.1f} frames/s (bottleneck {performance.bottleneck_layer})")
    fig.tight_layout()
    return save_figure(fig, path)
