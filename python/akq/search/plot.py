"""The sweep's plot: integer accuracy against energy and against latency per frame, the front marked.

Drawn on a matplotlib `Figure` with the Agg canvas (no pyplot, no screen), like the other akq plots.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from ..plot.figure import save_figure


def plot_sweep(result, path, title: str | None = None) -> Path:
    """Two panels sharing the accuracy axis; fitting rows as dots, others as crosses, the front in red,
    each front point labelled with the widths that vary between configurations."""
    rows = [r for r in result.rows if not r["error"]]
    front = result.pareto()
    keys = [k for k in (result.rows[0]["config"] if result.rows else ())
            if len({r["config"][k] for r in result.rows}) > 1]
    fig = Figure(figsize=(11, 4.8))
    panels = fig.subplots(1, 2, sharey=True)
    for axes, (key, label) in zip(panels, (("energy_mj", "energy per frame (mJ)"),
                                           ("latency_ms", "latency per frame (ms)"))):
        for fits, marker, name in ((True, "o", "fits the AKD1000"), (False, "x", "does not fit")):
            chosen = [r for r in rows if bool(r["fits"]) == fits]
            if chosen:
                axes.scatter([r[key] for r in chosen], [100 * r["integer_accuracy"] for r in chosen],
                             marker=marker, color="tab:gray", alpha=0.6, label=name)
        axes.scatter([r[key] for r in front], [100 * r["integer_accuracy"] for r in front], color="tab:red",
                     label="Pareto front")
        for row in front:
            axes.annotate("/".join(str(row["config"][k]) for k in keys),
                          (row[key], 100 * row["integer_accuracy"]), textcoords="offset points",
                          xytext=(4, 4), fontsize=7)
        axes.set_xlabel(label)
        axes.grid(alpha=0.3)
    panels[0].set_ylabel("integer model accuracy (%)")
    panels[0].legend(loc="lower right", fontsize=8)
    fig.suptitle(title or f"akq sweep: {len(result.rows)} configurations, {len(front)} on the Pareto front")
    fig.text(0.5, 0.01, "labels: " + "/".join(keys), ha="center", fontsize=8)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return save_figure(fig, path)
