"""Plots and tables of quantized models (matplotlib, Agg canvas: files only, no screen)."""

from .learning import plot_learning_curve
from .performance import plot_performance
from .weights import (KernelStats, format_weight_stats, plot_discretized_weights, plot_weight_stats,
                      weight_stats)

__all__ = ["KernelStats", "format_weight_stats", "plot_discretized_weights", "plot_learning_curve", "plot_performance",
           "plot_weight_stats", "weight_stats"]
