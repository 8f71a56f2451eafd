"""Running a model over many inputs: random inputs of its shape, batched runs with summed statistics."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..progress import progress
from .inference import LayerStatistics, Statistics
from .layers import LayerType

_COUNTS = ("samples", "input_events", "output_events", "synaptic_ops")


def random_inputs(model, count: int) -> np.ndarray:
    """`count` random uint8 inputs of the model's shape (in [0, 15] for an InputData model's 4 bits)."""
    first = model.layers[0]
    high = 2 ** first.parameters.input_bits if first.parameters.layer_type == LayerType.InputData else 256
    return np.random.default_rng(0).integers(0, high, (count, *model.input_shape), dtype=np.uint8)


def run_batches(model, inputs, batch_size: int, threads=None, quiet: bool = False):
    """Outputs of `model` on `inputs` (predict, or forward if the last layer has an activation) in batches
    with a progress bar, and the engine statistics summed over all batches."""
    run = model.forward if model.layers[-1].parameters.activation else model.predict
    outputs, totals = [], {}
    for start in progress(range(0, len(inputs), batch_size), "running", quiet or len(inputs) <= batch_size):
        outputs.append(run(inputs[start:start + batch_size], threads=threads))
        for s in model.statistics.layers:
            total = totals.setdefault(s.name, dict.fromkeys(_COUNTS, 0) | {"input_size": s.input_size})
            for key in _COUNTS:
                total[key] += getattr(s, key)
    statistics = Statistics([LayerStatistics(SimpleNamespace(name=n, **t)) for n, t in totals.items()])
    return np.concatenate(outputs), statistics
