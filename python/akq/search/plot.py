"""The sweep's plot: integer accuracy against energy and against latency per frame, the front marked.

Drawn on a matplotlib `Figure` with the Agg canvas (no pyplot, no screen), like the other akq plots.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def plot_sweep(result, path, title: str | None = None) -> Path:
    """Two panels sharing the accuracy axis; fitting rows as dots, others as crosses, the front in red
    with each point labelled by its configuration's widths."""
    rows = [r for r in result.rows if not r["error"]]
    front = result.pareto()
    fig = Figure(figsize=(11, 4.8))
    panels = fig.subplots(1, 2, sharey=True)
    for axes, (key, label) in zip(panels, (("energy_mj", "energy per frame (mJ)"),
                                           ("latency_ms", "latency per frame (ms)"))):
        for fits, marker, name in ((True, "o", "fits the AKD1000"), (False, "x", "does not fit")):
            chosen = [r for r in rows if bool(r["fits"]) == fits]
            if chosen:
                axes.scatter([r[key] for r in chosen], [100 * r["integer_accuracy"] for r in chosen],
                             marker=marker, color="tab:gray", alpha=0.6, label=name)
        ordered = sorted(front, key=lambda r: r[key])
        axes.plot([r[key] for r in ordered], [100 * r["integer_accuracy"] for r in ordered], "o-",
                  color="tab:red", label="Pareto front")
        for row in ordered:
            axes.annotate("/".join(str(v) for v in row["config"].values()),
                          (row[key], 100 * row["integer_accuracy"]), textcoords="offset points",
                          xytext=(4, 4), fontsize=7)
        axes.set_xlabel(label)
        axes.grid(alpha=0.3)
    panels[0].set_ylabel("integer model accuracy (%)")
    panels[0].legend(loc="lower right", fontsize=8)
    keys = "/".join(result.rows[0]["config"]) if result.rows else ""
    fig.suptitle(title or f"akq sweep: {len(result.rows)} configurations, {len(front)} on the front "
                          f"(labels: {keys})", fontsize=10)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=100)
    return path
