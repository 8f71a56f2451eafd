"""Running a model on the C++ engine: forward, predict, evaluate and the statistics of the last run."""

from __future__ import annotations

import numpy as np

from .. import _core
from ..errors import EngineError, InputError
from ..table import table_lines


class Inference:
    """The C++ engine compiled for one ModelSpec, and the statistics of its last run.

    `akq.Model` keeps one and drops it after any change of the model.
    """

    def __init__(self, spec, layer_names: list[str], input_shape: tuple[int, int, int]):
        if not layer_names:
            raise EngineError("the model has no layers; add an InputData or InputConvolutional layer first")
        self._engine = _core.Engine(spec)
        self._input_shape = tuple(input_shape)

    @property
    def last_has_activation(self) -> bool:
        return self._engine.last_has_activation

    def forward(self, inputs, threads=None) -> np.ndarray:
        """uint8 activations (or int32 potentials without activation) of the last layer, (N, O0, O1, F)."""
        return self._engine.forward(_inputs(self._input_shape, inputs), _threads(threads))

    def predict(self, inputs, threads=None) -> np.ndarray:
        """float32 (potential - threshold) / act_step of a last layer without activation, (N, O0, O1, F);
        EngineError (from the engine) if the last layer has an activation."""
        return self._engine.predict(_inputs(self._input_shape, inputs), _threads(threads))

    def evaluate(self, inputs, labels, threads=None) -> float:
        """Top-1 accuracy: argmax over the last layer's outputs (predict, or forward with activation)."""
        run = self.forward if self.last_has_activation else self.predict
        outputs = run(inputs, threads)
        if not len(outputs):
            raise InputError("evaluate got an empty batch: the accuracy of no input is undefined; "
                             "pass at least one input")
        labels = check_labels(labels, len(outputs))
        return float(np.mean(outputs.reshape(len(outputs), -1).argmax(axis=1) == labels))

    def statistics(self) -> "Statistics":
        """Statistics of the last run; EngineError if none has run since the engine was compiled."""
        layers = self._engine.statistics()
        if not layers:
            raise EngineError("no statistics yet: run model.forward(), predict() or evaluate() first "
                              "(changing the model clears them)")
        return Statistics([LayerStatistics(s) for s in layers])


def _threads(threads) -> int:
    if threads is None:
        return 0
    if type(threads) is int and 1 <= threads < 2**31:  # the common case, before the slower checks
        return threads
    if not isinstance(threads, (int, np.integer)) or isinstance(threads, (bool, np.bool_)) \
            or not 1 <= threads < 2**31:
        raise InputError(f"threads must be a positive int below 2**31 (or None for all cores), got {threads!r}")
    return int(threads)


def check_labels(labels, count: int) -> np.ndarray:
    """`labels` as `count` integer class indices (shape (N,) or (N, 1)), or InputError."""
    labels = np.asarray(labels)
    one_hot = " (one-hot labels? use labels.argmax(axis=1))" if labels.ndim == 2 else ""
    if not np.issubdtype(labels.dtype, np.integer):
        raise InputError(f"labels must be integer class indices, got dtype {labels.dtype}{one_hot}")
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise InputError(f"labels must have shape (N,), one class index per input, got {labels.shape}{one_hot}")
    if len(labels) != count:
        raise InputError(f"labels has {len(labels)} values for {count} inputs; give one label per input")
    return labels


_UINT8 = np.dtype(np.uint8)


def _inputs(dims: tuple[int, int, int], inputs) -> np.ndarray:
    """`inputs` as a C-contiguous (N, D0, D1, C) uint8 array, or a typed error naming the problem."""
    # Already right, checked first: at batch 1 the checks below cost as much as a small model.
    if (type(inputs) is np.ndarray and inputs.dtype is _UINT8 and inputs.shape[1:] == dims
            and inputs.flags.c_contiguous):
        return inputs
    if not isinstance(inputs, np.ndarray):
        raise InputError(f"inputs must be a numpy array of dtype uint8, got {type(inputs).__name__}")
    if inputs.dtype != np.uint8:
        raise InputError(f"input dtype should be uint8, got {inputs.dtype}; quantize the inputs to uint8 first "
                         "(e.g. np.clip(x, 0, 255).astype(np.uint8))")
    if inputs.ndim == 2 and dims[0] == 1 and dims[1] == 1 and inputs.shape[1] == dims[2]:
        inputs = inputs.reshape(inputs.shape[0], 1, 1, dims[2])  # (batch, N) for a (1, 1, N) input
    if inputs.ndim != 4 or tuple(inputs.shape[1:]) != dims:
        accepted = f"(N, {dims[0]}, {dims[1]}, {dims[2]})"
        if dims[0] == 1 and dims[1] == 1:
            accepted += f" or (N, {dims[2]})"
        raise InputError(f"inputs have shape {inputs.shape}, the model expects {accepted}")
    return np.ascontiguousarray(inputs)


class LayerStatistics:
    """Counts of one layer over the last forward's batch.

    `input_events` are the non-zero input values, `output_events` the non-zero outputs (activations,
    or potentials of a last layer without activation). `synaptic_ops` sums, over the input events, the
    weights each one touches: F per covering output position for (Input)Convolutional, U for
    FullyConnected; for SeparableConvolutional one depthwise weight per covering position plus F
    pointwise weights per non-zero depthwise sum. `sparsity` = 1 - input_events / (samples * input_size).
    """

    def __init__(self, core_stats):
        self.name: str = core_stats.name
        self.samples: int = core_stats.samples
        self.input_size: int = core_stats.input_size
        self.input_events: int = core_stats.input_events
        self.output_events: int = core_stats.output_events
        self.synaptic_ops: int = core_stats.synaptic_ops
        total = self.samples * self.input_size
        self.sparsity: float = 1.0 - self.input_events / total if total else 0.0

    def __repr__(self):
        return (f"LayerStatistics({self.name!r}, samples={self.samples}, input_events={self.input_events}, "
                f"sparsity={self.sparsity:.3f}, synaptic_ops={self.synaptic_ops})")


class Statistics:
    """Per-layer events, sparsity and synaptic operations of the last forward (`layers`, in order)."""

    def __init__(self, layers: list[LayerStatistics]):
        self.layers = layers

    def __str__(self):
        return "\n".join(table_lines([("Layer", 28, lambda s: s.name, ""),
                                      ("samples", 9, lambda s: s.samples, ""),
                                      ("input size", 12, lambda s: s.input_size, ""),
                                      ("in events", 14, lambda s: s.input_events, ""),
                                      ("sparsity", 10, lambda s: s.sparsity, ".3f"),
                                      ("out events", 14, lambda s: s.output_events, ""),
                                      ("synaptic ops", 16, lambda s: s.synaptic_ops, "")], self.layers))

    def __repr__(self):
        return f"<akq Statistics of {len(self.layers)} layers>\n{self}"
