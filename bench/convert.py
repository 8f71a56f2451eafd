"""Conversion speed: a DS-CNN keyword-spotting model and a MobileNet-v1 0.5 at 96x96, quantized with akq
layers and random weights. Prints the median akq.convert time (TensorFlow already imported) against the
reference's ~0.5 s and ~1.5 s, then converts 100 copies of each in a batch.

    PYTHONPATH=python python bench/convert.py [--repeats 20] [--copies 100]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

REFERENCE_SECONDS = {"ds_cnn_kws": 0.5, "mobilenet_v1_0.5_96": 1.5}


def _quantized_stack():
    import akq
    import keras

    return keras, akq.quantization_layers, akq.quantization_ops


def _block(layers, ql, qops, keras, kind, filters, name, kernel=3, strides=1, bits=4, pool=None, first=False):
    """neural -> [pool] -> BN -> QuantizedReLU, with a per-axis weight quantizer."""
    q = qops.MaxPerAxisQuantizer(bitwidth=8 if first else bits)
    if kind == "conv":
        layers.append(ql.QuantizedConv2D(filters, kernel, strides=strides, padding="same", quantizer=q,
                                         use_bias=False, name=name))
    else:
        layers.append(ql.QuantizedSeparableConv2D(filters, kernel, padding="same", quantizer=q,
                                                  quantizer_dw=qops.MaxQuantizer(bitwidth=bits), use_bias=False,
                                                  name=name))
    if pool == "max":
        layers.append(keras.layers.MaxPool2D(2, padding="same", name=f"{name}_pool"))
    elif pool == "gap":
        layers.append(keras.layers.GlobalAveragePooling2D(name=f"{name}_gap"))
    layers.append(keras.layers.BatchNormalization(name=f"{name}_bn"))
    layers.append(ql.QuantizedReLU(bitwidth=4, max_value=6.0, name=f"{name}_relu"))


def ds_cnn_kws():
    keras, ql, qops = _quantized_stack()
    layers = [keras.layers.Rescaling(1 / 255, name="rescaling")]
    _block(layers, ql, qops, keras, "conv", 64, "conv_0", kernel=5, strides=2, first=True)
    for i in range(1, 5):
        _block(layers, ql, qops, keras, "separable", 64, f"separable_{i}", pool="gap" if i == 4 else None)
    layers += [keras.layers.Flatten(), ql.QuantizedDense(33, quantizer=qops.MaxPerAxisQuantizer(bitwidth=4),
                                                         name="dense_5"), keras.layers.Softmax()]
    return _randomized(keras.Sequential([keras.Input((49, 10, 1)), *layers], name="ds_cnn_kws"))


def mobilenet_v1_05_96():
    keras, ql, qops = _quantized_stack()
    layers = [keras.layers.Rescaling(1 / 127.5, -1, name="rescaling")]
    _block(layers, ql, qops, keras, "conv", 16, "conv_0", strides=2, first=True)
    plan = [(32, None), (64, "max"), (64, None), (128, "max"), (128, None), (256, "max"), (256, None),
            (256, None), (256, None), (256, None), (256, None), (512, "max"), (512, "gap")]
    for i, (filters, pool) in enumerate(plan, start=1):
        _block(layers, ql, qops, keras, "separable", filters, f"separable_{i}", pool=pool)
    layers += [keras.layers.Dropout(0.1), ql.QuantizedDense(1000, quantizer=qops.MaxPerAxisQuantizer(bitwidth=4),
                                                            name="classifier"), keras.layers.Softmax()]
    return _randomized(keras.Sequential([keras.Input((96, 96, 3)), *layers], name="mobilenet_v1_0.5_96"))


def _randomized(model):
    """Random kernels (Keras initializers) and random positive batch-norm statistics."""
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if type(layer).__name__ == "BatchNormalization":
            c = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, c), rng.normal(0, 0.1, c), rng.normal(0, 0.1, c),
                               rng.uniform(0.5, 1.5, c)])
    return model


def _copies(model, count):
    import keras

    weights = model.get_weights()
    for _ in range(count):
        clone = keras.models.clone_model(model)
        clone.set_weights(weights)
        yield clone


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--copies", type=int, default=100)
    args = parser.parse_args()
    import akq
    import tensorflow  # noqa: F401  (import cost excluded from every figure)
    from tqdm import tqdm

    for build in (ds_cnn_kws, mobilenet_v1_05_96):
        model = build()
        akq.convert(model)  # warm-up: first TensorFlow op dispatch
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            akq.convert(model)
            times.append(time.perf_counter() - start)
        median = statistics.median(times)
        reference = REFERENCE_SECONDS[model.name]
        print(f"{model.name}: {len(model.layers)} Keras layers, median convert {median * 1e3:.1f} ms "
              f"(min {min(times) * 1e3:.1f} ms) vs reference ~{reference:.1f} s: {reference / median:.0f}x faster")
        if args.copies <= 0:
            continue
        copies = list(tqdm(_copies(model, args.copies), total=args.copies, desc=f"cloning {model.name}"))
        start = time.perf_counter()
        for copy in tqdm(copies, desc=f"converting {args.copies} x {model.name}"):
            akq.convert(copy)
        total = time.perf_counter() - start
        print(f"{model.name}: {args.copies} copies converted in {total:.2f} s ({total / args.copies * 1e3:.1f} ms each)")


if __name__ == "__main__":
    main()
