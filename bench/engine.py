"""Throughput of the akq engine vs TensorFlow float and TFLite int8 (XNNPACK) on the same networks.

    PYTHONPATH=python python bench/engine.py [--models toy,dscnn,...] [--quick]

For every model: akq predict, TF float (Keras model called in graph mode) and a TFLite full-integer
int8 interpreter of the same Keras model, at batch 1 and 256, 1 and 2 threads. Prints samples/s, MAC/s
and the fraction of this CPU's int8 peak. The akq model has the Keras model's architecture with
random integer weights (8-bit first layer, 4-bit others, 4-bit activations) and thresholds calibrated
for about half of the activations to be zero events, like a trained ReLU network. TF runs in a
subprocess per thread count (its thread pools are fixed at start-up).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))

# (kind, filters, kernel, stride, padding, pool) ; pool: None | ("max", size) | "gap"
MODELS = {
    "toy": ((28, 28, 1), [("conv", 8, 3, 1, "valid", ("max", 2)), ("fc", 10)]),
    "dscnn": ((49, 10, 1), [("conv", 64, 5, 2, "same", None)] + [("sep", 64, 3, 1, "same", None)] * 3
              + [("sep", 64, 3, 1, "same", "gap"), ("fc", 12)]),
    "mobilenet32": ((32, 32, 3), None),
    "mobilenet96": ((96, 96, 3), None),
    "vgg": ((32, 32, 3), [("conv", 32, 3, 1, "same", None), ("conv", 32, 3, 1, "same", ("max", 2)),
                          ("conv", 64, 3, 1, "same", None), ("conv", 64, 3, 1, "same", ("max", 2)),
                          ("conv", 128, 3, 1, "same", None), ("conv", 128, 3, 1, "same", ("max", 2)),
                          ("fc", 10)]),
}


def mobilenet(classes):
    """MobileNet-v1 with alpha 0.5: a 3x3/2 convolution then 13 depthwise-separable blocks, GAP, dense."""
    blocks = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    layers = [("conv", 16, 3, 2, "same", None)]
    layers += [("sep", f // 2, 3, s, "same", None) for f, s in blocks[:-1]]
    layers += [("sep", blocks[-1][0] // 2, 3, 1, "same", "gap"), ("fc", classes)]
    return layers


MODELS["mobilenet32"] = ((32, 32, 3), mobilenet(10))
MODELS["mobilenet96"] = ((96, 96, 3), mobilenet(1000))


def out_size(d, k, s, padding):
    return -(-d // s) if padding == "same" else (d - k) // s + 1


def macs(shape, layers) -> int:
    """Multiply-accumulates per sample (depthwise + pointwise for separable layers)."""
    d0, d1, c = shape
    total = 0
    for kind, *rest in layers:
        if kind == "fc":
            total += d0 * d1 * c * rest[0]
            d0, d1, c = 1, 1, rest[0]
            continue
        f, k, s, padding, pool = rest
        o0, o1 = out_size(d0, k, s, padding), out_size(d1, k, s, padding)
        total += o0 * o1 * (k * k * c * f if kind == "conv" else k * k * c + c * f)
        d0, d1, c = o0, o1, f
        if pool == "gap":
            d0 = d1 = 1
        elif pool:
            d0, d1 = out_size(d0, pool[1], pool[1], padding), out_size(d1, pool[1], pool[1], padding)
    return total


# -- akq -------------------------------------------------------------------------------------------
def akq_model(shape, layers, rng, calibration):
    import akq

    def weights(layer, name, bits):
        shape_ = layer.get_variable(name).shape
        top = 127 if bits == 8 else 2 ** (bits - 1) - 1
        layer.set_variable(name, rng.integers(-top, top + 1, shape_).astype(np.int8))

    model = akq.Model()
    for index, (kind, *rest) in enumerate(layers):
        last = index == len(layers) - 1
        if kind == "fc":
            layer = akq.FullyConnected(rest[0], name=f"fc{index}", weights_bits=4, activation=False, act_bits=4)
        else:
            f, k, s, padding, pool = rest
            kwargs = dict(name=f"{kind}{index}", kernel_stride=s, activation=False, act_bits=4,
                          padding=akq.Padding.Same if padding == "same" else akq.Padding.Valid)
            if pool == "gap":
                kwargs["pool_type"] = akq.PoolType.Average
            elif pool:
                kwargs.update(pool_type=akq.PoolType.Max, pool_size=pool[1])
            if index == 0:
                layer = akq.InputConvolutional(shape, k, f, weights_bits=8, **kwargs)
            else:
                cls = akq.SeparableConvolutional if kind == "sep" else akq.Convolutional
                layer = cls(k, f, weights_bits=4, **kwargs)
        model.add(layer)
        weights(layer, "weights", 8 if index == 0 else 4)
        if kind == "sep":
            weights(layer, "weights_pw", 4)
        if last:
            break
        # Threshold at the median potential, 15 levels over the upper half: about 50 % zero events.
        p = model.forward(calibration).reshape(-1, layer.output_dims[2]).astype(np.float64)
        median, top = np.median(p, axis=0), np.percentile(p, 99, axis=0)
        layer.set_variable("threshold", np.floor(median).astype(np.int32))
        layer.set_variable("act_step", np.maximum((top - median) / 15, 1 / 16).astype(np.float32))
        layer._spec.activation = True
        model._invalidate()
    return model


def time_call(fn, min_seconds):
    """(wall seconds, process CPU seconds) per call. On a shared machine the CPU time of a 1-thread
    run is the fairer figure: it does not count the time other processes held the core."""
    fn()
    runs, start, cpu_start = 0, time.perf_counter(), time.process_time()
    while True:
        fn()
        runs += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return elapsed / runs, (time.process_time() - cpu_start) / runs


# -- TensorFlow (runs in a worker process per thread count) ----------------------------------------
def keras_model(shape, layers):
    import keras

    model = keras.Sequential([keras.Input(shape)])
    for kind, *rest in layers:
        if kind == "fc":
            if len(model.output_shape) > 2:
                model.add(keras.layers.Flatten())
            model.add(keras.layers.Dense(rest[0]))
            continue
        f, k, s, padding, pool = rest
        cls = keras.layers.SeparableConv2D if kind == "sep" else keras.layers.Conv2D
        model.add(cls(f, k, strides=s, padding=padding))
        if pool == "gap":
            model.add(keras.layers.GlobalAveragePooling2D())
        elif pool:
            model.add(keras.layers.MaxPool2D(pool[1], padding=padding))
        model.add(keras.layers.ReLU())
    return model


def tf_worker(names, threads, batches, min_seconds):
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    results = {}
    for name in names:
        shape, layers = MODELS[name]
        model = keras_model(shape, layers)
        rng = np.random.default_rng(0)
        data = rng.uniform(0, 1, (256, *shape)).astype(np.float32)
        call = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

        def representative():
            for i in range(16):
                yield [data[i:i + 1]]

        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
        tflite = converter.convert()
        for batch in batches:
            x = tf.constant(data[:batch])
            wall, cpu = time_call(lambda: call(x), min_seconds)
            results[f"{name}/tf/{batch}"] = (batch / wall, batch / cpu)
            interpreter = tf.lite.Interpreter(model_content=tflite, num_threads=threads)
            index = interpreter.get_input_details()[0]["index"]
            interpreter.resize_tensor_input(index, [batch, *shape])
            interpreter.allocate_tensors()
            interpreter.set_tensor(index, rng.integers(-128, 128, (batch, *shape)).astype(np.int8))
            wall, cpu = time_call(interpreter.invoke, min_seconds)
            results[f"{name}/tflite/{batch}"] = (batch / wall, batch / cpu)
    print(json.dumps(results))


def tf_results(names, threads, batches, min_seconds):
    command = [sys.executable, __file__, "--tf-worker", "--models", ",".join(names), "--threads", str(threads),
               "--batches", ",".join(map(str, batches)), "--seconds", str(min_seconds)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
        return {}
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- main ------------------------------------------------------------------------------------------
def int8_peak() -> tuple[float, float]:
    """(GHz, int8 MAC/s peak): 2 vpmaddubsw per cycle x 32 u8*s8 products (AVX2, Zen 3)."""
    ghz = 0.0
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("cpu MHz"):
                ghz = float(line.split(":")[1]) / 1000
                break
    return ghz, 2 * 32 * ghz * 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--batches", default="1,256")
    parser.add_argument("--seconds", type=float, default=1.0, help="minimum time per measurement")
    parser.add_argument("--no-tf", action="store_true", help="akq only")
    parser.add_argument("--tf-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    names = args.models.split(",")
    threads = [int(t) for t in args.threads.split(",")]
    batches = [int(b) for b in args.batches.split(",")]
    if args.tf_worker:
        tf_worker(names, threads[0], batches, args.seconds)
        return

    import akq
    from akq import _core

    ghz, peak = int8_peak()
    print(f"CPU clock {ghz:.2f} GHz, SIMD level {_core.simd_level()}; int8 peak = 2 vpmaddubsw/cycle x 32 MAC "
          f"x clock = {peak / 1e9:.0f} GMAC/s per core")
    tf = {t: ({} if args.no_tf else tf_results(names, t, batches, args.seconds)) for t in threads}
    print("samples/s from wall time (w) and from process CPU time (c; 1 thread: excludes time other processes held "
          "the core; 2 threads: CPU-second throughput); GMAC/s and %peak from wall time")
    header = (f"{'model':<12}{'MMAC':>7}{'thr':>4}{'batch':>6}{'akq w/s':>10}{'akq c/s':>10}{'GMAC/s':>8}{'%peak':>7}"
              f"{'tflite w/s':>11}{'tflite c/s':>11}{'tf w/s':>9}{'vs tflite':>10}{'vs tf':>7}")
    print(header)
    print("-" * len(header))
    for name in names:
        shape, layers = MODELS[name]
        rng = np.random.default_rng(0)
        model = akq_model(shape, layers, rng, rng.integers(0, 256, (32, *shape)).astype(np.uint8))
        mac = macs(shape, layers)
        data = rng.integers(0, 256, (256, *shape)).astype(np.uint8)
        for t in threads:
            for batch in batches:
                x = data[:batch]
                wall, cpu = time_call(lambda: model.predict(x, threads=t), args.seconds)
                rate, rate_cpu = batch / wall, batch / cpu
                nan = (float("nan"), float("nan"))
                lite, lite_cpu = tf[t].get(f"{name}/tflite/{batch}", nan)
                flt, _ = tf[t].get(f"{name}/tf/{batch}", nan)
                print(f"{name:<12}{mac / 1e6:>7.2f}{t:>4}{batch:>6}{rate:>10.0f}{rate_cpu:>10.0f}"
                      f"{rate * mac / 1e9:>8.1f}{100 * rate * mac / (peak * t):>7.1f}{lite:>11.0f}{lite_cpu:>11.0f}"
                      f"{flt:>9.0f}{rate / lite:>10.2f}{rate / flt:>7.2f}")
        stats = model.statistics
        sparsity = np.mean([s.sparsity for s in stats.layers[1:]])
        print(f"{'':<12}mean input sparsity of layers 2..: {sparsity:.2f}")


if __name__ == "__main__":
    main()
