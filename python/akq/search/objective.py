"""One trial of a sweep: quantize, fine-tune, convert, run, map and estimate one configuration.

Only the public akq API is used (`akq.quantize`, `akq.quantize_layer`, `akq.convert`, `Model.evaluate`,
`Model.map`, `akq.check_hardware`, `akq.Performance`), so a row can be recomputed by hand. A `Task`
carries everything but the configuration and pickles small enough to ship to Ray workers.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import AkqError, InputError
from .space import UNIFORM_KEYS

METRICS = ("quantized_accuracy", "integer_accuracy", "nps", "fits", "latency_ms", "fps", "energy_mj", "error")
FINE_TUNE_BATCH = 64
_loaded: dict[str, object] = {}  # float models of this process, by digest of their .keras bytes


@dataclass(frozen=True)
class Task:
    """The float model (.keras bytes), the data and the settings shared by every trial of a sweep."""

    model_bytes: bytes
    model_digest: str              # of the model's architecture and weights (the .keras bytes hold a date)
    x: np.ndarray                  # Keras inputs the accuracies are measured on
    y: np.ndarray                  # their integer labels
    integer_x: np.ndarray          # the same inputs as the integer model takes them (uint8)
    train: tuple | None            # (x, y) to fine-tune on, or None
    fine_tune_epochs: int
    input_scaling: tuple[float, float] | None
    seed: int

    @property
    def digest(self) -> str:
        """Identifies the model, data and settings: rows of a CSV are reused only for the same digest."""
        h = hashlib.sha256(self.model_digest.encode())
        for array in (self.x, self.y, *(self.train or ())):
            h.update(np.ascontiguousarray(array).tobytes())
        h.update(repr((self.fine_tune_epochs, self.input_scaling, self.seed)).encode())
        return h.hexdigest()[:16]

    def float_model(self):
        if self.model_digest not in _loaded:
            _loaded[self.model_digest] = _from_keras_bytes(self.model_bytes)
        return _loaded[self.model_digest]


def make_task(float_model, x, y, train, fine_tune_epochs: int, input_scaling, seed: int) -> Task:
    """Check the data and settings and pack them (a clear error here, not in every trial)."""
    x, y = np.asarray(x), np.asarray(y).reshape(-1)
    if len(x) != len(y) or not len(y):
        raise InputError(f"x has {len(x)} samples and y {len(y)} labels; give one integer label per sample")
    if not np.issubdtype(y.dtype, np.integer):
        raise InputError(f"y must be integer class indices, got dtype {y.dtype}")
    if not isinstance(fine_tune_epochs, int) or fine_tune_epochs < 0:
        raise InputError(f"fine_tune_epochs must be an integer >= 0, got {fine_tune_epochs!r}")
    if train is not None:
        train = (np.asarray(train[0]), np.asarray(train[1]).reshape(-1))
    scaling = None if input_scaling is None else tuple(float(v) for v in input_scaling)
    return Task(_to_keras_bytes(float_model), _model_digest(float_model), x, y, integer_inputs(x, scaling), train, fine_tune_epochs,
                scaling, int(seed))


def integer_inputs(x: np.ndarray, input_scaling) -> np.ndarray:
    """`a * x + s` as uint8 (x itself without scaling); InputError unless those are integers in [0, 255]."""
    a, s = input_scaling or (1.0, 0.0)
    values = a * np.asarray(x, np.float64) + s
    rounded = np.rint(values)
    if values.size and (np.abs(values - rounded).max() > 1e-3 or rounded.min() < 0 or rounded.max() > 255):
        raise InputError(f"input_scaling {input_scaling} does not turn x into integers in [0, 255] (the integer "
                         "model's uint8 inputs); e.g. for pixels / 255 give input_scaling=(255, 0)")
    return rounded.astype(np.uint8)


def quantized_model(float_model, config: dict):
    """`akq.quantize` with the uniform widths, then `akq.quantize_layer` for each layer set apart."""
    import akq

    model = akq.quantize(float_model, config["weight_bits"], config["activ_bits"], config["input_weight_bits"])
    for name, bits in config.items():
        if name not in UNIFORM_KEYS and _bits(model.get_layer(name)) != bits:
            model = akq.quantize_layer(model, name, bits)
    return model


def layer_kinds(float_model, config: dict) -> list[tuple[str, str]]:
    """(name, "weights" or "activations") of the quantized layers after the first neural one."""
    kinds = []
    for layer in quantized_model(float_model, config).layers:
        if getattr(layer, "quantizer", None) is not None:
            kinds.append((layer.name, "weights"))
        elif hasattr(layer, "bitwidth"):
            kinds.append((layer.name, "activations"))
    return kinds[1:] if kinds and kinds[0][1] == "weights" else kinds


def evaluate(task: Task, config: dict) -> dict:
    """The row of `config`: the metrics of METRICS (error is "" or why conversion/mapping refused it)."""
    import keras

    import akq

    keras.utils.set_random_seed(task.seed)
    model = quantized_model(task.float_model(), config)
    if task.fine_tune_epochs:
        fine_tune(model, *(task.train or (task.x, task.y)), task.fine_tune_epochs)
    row = dict.fromkeys(METRICS)
    row["quantized_accuracy"] = keras_accuracy(model, task.x, task.y)
    try:
        integer = akq.convert(model, input_scaling=task.input_scaling)
        row["integer_accuracy"] = integer.evaluate(task.integer_x, task.y)
        integer.map(akq.AKD1000(), hw_only=False)
        row["fits"] = not akq.check_hardware(integer)
        performance = akq.Performance(integer)
    except AkqError as error:
        return {**row, "fits": False, "error": f"{type(error).__name__}: {' '.join(str(error).split())}"}
    row.update(nps=performance.nps, latency_ms=1e3 * performance.latency_s, fps=performance.frames_per_s,
               energy_mj=1e3 * performance.energy_per_frame_j, error="")
    return row


def keras_accuracy(model, x, y, batch_size: int = 256) -> float:
    """Top-1 accuracy of a Keras model, called directly in batches (no per-model tf.function)."""
    import keras

    predicted = np.concatenate([keras.ops.convert_to_numpy(model(x[i:i + batch_size], training=False))
                                .reshape(len(x[i:i + batch_size]), -1).argmax(1)
                                for i in range(0, len(x), batch_size)])
    return float(np.mean(predicted == y))


def fine_tune(model, x, y, epochs: int) -> None:
    """A few epochs of Adam (1e-3) on sparse categorical cross-entropy of the logits."""
    import keras

    model.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  jit_compile=False)
    model.fit(x, y, epochs=epochs, batch_size=FINE_TUNE_BATCH, verbose=0)


def _bits(layer) -> int | None:
    quantizer = getattr(layer, "quantizer", None)
    return quantizer.bitwidth if quantizer is not None else getattr(layer, "bitwidth", None)


def _model_digest(model) -> str:
    h = hashlib.sha256(model.to_json().encode())
    for weights in model.get_weights():
        h.update(np.ascontiguousarray(weights).tobytes())
    return h.hexdigest()


def _to_keras_bytes(model) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "float.keras"
        model.save(path)
        return path.read_bytes()


def _from_keras_bytes(data: bytes):
    import keras

    from .. import quantization_layers  # noqa: F401 - registers the akq layers (an already-quantized model)

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "float.keras"
        path.write_bytes(data)
        return keras.models.load_model(path, compile=False)
