"""Few-shot learning curve of `akq demo --learn`: accuracy against examples per class (Agg canvas)."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from .figure import save_figure


def plot_learning_curve(accuracy: dict[int, tuple[float, float]], path, chance: float, title: str) -> Path:
    """Mean accuracy (with its spread over draws) per number of examples per class, in percent."""
    shots = list(accuracy)
    means = [100 * accuracy[s][0] for s in shots]
    spreads = [100 * accuracy[s][1] for s in shots]
    fig = Figure(figsize=(6, 4))
    axes = fig.add_subplot()
    axes.errorbar(shots, means, yerr=spreads, marker="o", capsize=3, label="on-chip learning layer")
    axes.axhline(100 * chance, color="grey", linestyle="--", label="chance")
    axes.set(xscale="log", xlabel="examples per new class", ylabel="accuracy on held-out examples (%)",
             ylim=(0, 100), title=title)
    axes.set_xticks(shots, [str(s) for s in shots])
    axes.legend(loc="lower right")
    fig.tight_layout()
    return save_figure(fig, path)
