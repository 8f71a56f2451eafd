"""Conversion speed against a peer measured in the same run: a DS-CNN keyword-spotting model and a
MobileNet-v1 0.5 at 96x96 (float Keras models, random weights and batch-norm statistics) are taken to
integer models by akq (`akq.quantize` then `akq.convert`) and by TensorFlow Lite's full-integer
post-training conversion (int8 weights and activations, calibrated on a few random inputs). Prints the
median time of each (TensorFlow already imported), then converts copies of each model in a batch with akq.

    PYTHONPATH=python python bench/convert.py [--repeats 10] [--tflite-repeats 3] [--copies 100]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

BITS = {"weight_quantization": 4, "activ_quantization": 4, "input_weight_quantization": 8}
CALIBRATION_INPUTS = 16  # representative inputs TFLite calibrates its activation ranges on


def _block(layers, kind, filters, name, kernel=3, strides=1, pool=None):
    """neural -> [pool] -> BN -> ReLU(6)."""
    import keras

    L = keras.layers
    if kind == "conv":
        layers.append(L.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False, name=name))
    else:
        layers.append(L.SeparableConv2D(filters, kernel, padding="same", use_bias=False, name=name))
    if pool == "max":
        layers.append(L.MaxPool2D(2, padding="same", name=f"{name}_pool"))
    elif pool == "gap":
        layers.append(L.GlobalAveragePooling2D(name=f"{name}_gap"))
    layers.append(L.BatchNormalization(name=f"{name}_bn"))
    layers.append(L.ReLU(6.0, name=f"{name}_relu"))


def ds_cnn_kws():
    import keras

    layers = [keras.layers.Rescaling(1 / 255, name="rescaling")]
    _block(layers, "conv", 64, "conv_0", kernel=5, strides=2)
    for i in range(1, 5):
        _block(layers, "separable", 64, f"separable_{i}", pool="gap" if i == 4 else None)
    layers += [keras.layers.Flatten(), keras.layers.Dense(33, name="dense_5"), keras.layers.Softmax()]
    return _randomized(keras.Sequential([keras.Input((49, 10, 1)), *layers], name="ds_cnn_kws"))


def mobilenet_v1_05_96():
    import keras

    layers = [keras.layers.Rescaling(1 / 127.5, -1, name="rescaling")]
    _block(layers, "conv", 16, "conv_0", strides=2)
    plan = [(32, None), (64, "max"), (64, None), (128, "max"), (128, None), (256, "max"), (256, None),
            (256, None), (256, None), (256, None), (256, None), (512, "max"), (512, "gap")]
    for i, (filters, pool) in enumerate(plan, start=1):
        _block(layers, "separable", filters, f"separable_{i}", pool=pool)
    layers += [keras.layers.Dropout(0.1), keras.layers.Dense(1000, name="classifier"), keras.layers.Softmax()]
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


def akq_integer_model(model):
    """Float Keras model -> akq integer model (no fine-tuning)."""
    import akq

    return akq.convert(akq.quantize(model, **BITS))  # the Rescaling layer gives the input scaling


def tflite_integer_model(model) -> bytes:
    """Float Keras model -> TFLite flatbuffer with int8 weights and activations (uint8 input and output)."""
    import tensorflow as tf

    rng = np.random.default_rng(1)
    shape = (1, *model.inputs[0].shape[1:])
    samples = [rng.uniform(0, 255, shape).astype(np.float32) for _ in range(CALIBRATION_INPUTS)]
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([sample] for sample in samples)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = converter.inference_output_type = tf.uint8
    return converter.convert()


def _median_seconds(function, model, repeats: int) -> float:
    function(model)  # warm-up: first op dispatch and tracing
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(model)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _copies(model, count):
    import keras

    weights = model.get_weights()
    for _ in range(count):
        clone = keras.models.clone_model(model)
        clone.set_weights(weights)
        yield clone


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, help="timed akq conversions per model (10)")
    parser.add_argument("--tflite-repeats", type=int, default=3, help="timed TFLite conversions per model (3)")
    parser.add_argument("--copies", type=int, default=100, help="copies converted in a batch by akq (100)")
    args = parser.parse_args()
    import tensorflow as tf  # (import cost excluded from every figure)
    from tqdm import tqdm

    import akq

    tf.get_logger().setLevel("ERROR")
    for build in (ds_cnn_kws, mobilenet_v1_05_96):
        model = build()
        ours = _median_seconds(akq_integer_model, model, args.repeats)
        convert_only = _median_seconds(akq.convert, akq.quantize(model, **BITS), args.repeats)
        peer = _median_seconds(tflite_integer_model, model, args.tflite_repeats)
        print(f"{model.name}: {len(model.layers)} Keras layers, float -> integer model (median): akq "
              f"quantize+convert {ours * 1e3:.0f} ms (convert alone {convert_only * 1e3:.0f} ms), "
              f"TFLite {tf.__version__} full-integer {peer * 1e3:.0f} ms: {peer / ours:.1f}x")
        if args.copies <= 0:
            continue
        copies = list(tqdm(_copies(model, args.copies), total=args.copies, desc=f"cloning {model.name}"))
        start = time.perf_counter()
        for copy in tqdm(copies, desc=f"akq: {args.copies} x {model.name}"):
            akq_integer_model(copy)
        total = time.perf_counter() - start
        print(f"{model.name}: {args.copies} copies quantized and converted by akq in {total:.2f} s "
              f"({total / args.copies * 1e3:.1f} ms each)")


if __name__ == "__main__":
    main()
