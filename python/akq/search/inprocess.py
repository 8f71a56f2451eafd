"""The default backend: every trial in this process, one after the other (the engine and TensorFlow
use the machine's cores within a trial)."""

from __future__ import annotations

from .objective import evaluate


def run_in_process(task, search_rounds, store, progress) -> int:
    """Measure every configuration the search proposes, adding each row to `store` as it comes; no
    trial is retried (an exception here is a bug, and it propagates)."""
    for configs in search_rounds:
        for config in configs:
            store.add(config, evaluate(task, config))
            progress.update()
    return 0
