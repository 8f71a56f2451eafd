"""Throughput of the akq engine vs LiteRT int8 (XNNPACK) on the same networks, side by side.

    PYTHONPATH=python python bench/engine.py [--models toy,dscnn,...] [--batches 1,64] [--threads 1]

For every model: akq predict and a LiteRT 2.3 full-integer int8 interpreter (ai_edge_litert, the TFLite
converter of TF 2.21 with representative data) of the same Keras 3 architecture, timed in alternating
rounds in one process, at batch 1 and 64 on 1 thread. Prints samples/s, akq/LiteRT, the kernel family
akq ran, its GMAC/s and %peak: the share of its time that its multiplies alone would take at this core's
measured peaks for that family (bench/peak.cpp: the engine's inner uint8 x int8 and int16 instructions,
timed; int16 for the first layer and the separable pointwise products). The akq model has the Keras
model's architecture with random integer weights (8-bit first layer, 4-bit others, 4-bit activations)
and thresholds calibrated for about half of the activations to be zero events, like a trained ReLU
network. Rates are per second of process CPU time at 1 thread (time other processes held the core is not
counted; on a shared machine this is the fairer figure), of wall time otherwise; --fastest-call takes
the fastest single call instead, the figure to compare thread counts by when other processes share the
cores; --gap-ms G the median of calls G ms apart, the latency of sporadic single inputs (a keyword
spotter's). TensorFlow only converts, in a subprocess; AKQ_SIMD=<family> forces a kernel family.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "python"))

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
    blocks = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)]
    blocks += [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    layers = [("conv", 16, 3, 2, "same", None)]
    layers += [("sep", f // 2, 3, s, "same", None) for f, s in blocks[:-1]]
    layers += [("sep", blocks[-1][0] // 2, 3, 1, "same", "gap"), ("fc", classes)]
    return layers


MODELS["mobilenet32"] = ((32, 32, 3), mobilenet(10))
MODELS["mobilenet96"] = ((96, 96, 3), mobilenet(1000))


def out_size(d, k, s, padding):
    return -(-d // s) if padding == "same" else (d - k) // s + 1


def macs(shape, layers) -> dict[str, int]:
    """Multiply-accumulates per sample by the operand width akq's kernels take them at: "int16" for the
    first layer (8-bit inputs) and the separable pointwise products (int16 depthwise sums), "uint8" for
    the rest (depthwise sums included)."""
    d0, d1, c = shape
    total = {"uint8": 0, "int16": 0}
    for index, (kind, *rest) in enumerate(layers):
        if kind == "fc":
            total["uint8"] += d0 * d1 * c * rest[0]
            d0, d1, c = 1, 1, rest[0]
            continue
        f, k, s, padding, pool = rest
        o0, o1 = out_size(d0, k, s, padding), out_size(d1, k, s, padding)
        if kind == "conv":
            total["int16" if index == 0 else "uint8"] += o0 * o1 * k * k * c * f
        else:
            total["uint8"] += o0 * o1 * k * k * c
            total["int16"] += o0 * o1 * c * f
        d0, d1, c = o0, o1, f
        if pool == "gap":
            d0 = d1 = 1
        elif pool:
            d0, d1 = out_size(d0, pool[1], pool[1], padding), out_size(d1, pool[1], pool[1], padding)
    return total


def peak_fraction(mac: dict[str, int], peaks: dict[str, float], samples_per_second: float) -> float:
    """The time that the multiplies alone take at the core's measured peaks (GMAC/s per operand width),
    as a fraction of the time taken: 1.0 would be every cycle spent on them at their best rate."""
    if not peaks:
        return float("nan")
    return sum(n / (peaks[width] * 1e9) for width, n in mac.items()) * samples_per_second


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
            layer = akq.FullyConnected(rest[0], name=f"fc{index}", weights_bits=4, activation=False,
                                       act_bits=4)
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


def time_call(fn, seconds, threads, fastest=False, gap=0.0):
    """Seconds per call over at least `seconds`: process CPU time at 1 thread, else wall time; with
    `fastest`, the wall time of the fastest single call instead (what a call takes when no other process
    holds a core it needs: the figure to compare thread counts by on a shared machine); with `gap`, the
    median wall time of calls `gap` seconds apart (at least 20 of them)."""
    fn()
    if gap:
        times = []
        while len(times) < 20 or (sum(times) + gap * len(times)) < seconds:
            time.sleep(gap)
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return float(np.median(times))
    clock = time.process_time if threads == 1 else time.perf_counter
    runs, start, best = 0, clock(), float("inf")
    wall = last = time.perf_counter()
    while True:
        fn()
        now = time.perf_counter()
        best, last = min(best, now - last), now
        runs += 1
        if now - wall >= seconds:
            return best if fastest else (clock() - start) / runs


# -- LiteRT: Keras 3 model, converted by TF in a subprocess (TF never loads in the timing process) --
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


def convert_worker(names, directory):
    """Writes <directory>/<name>.tflite: full-integer int8 with int8 input and output."""
    import tensorflow as tf

    for name in names:
        shape, layers = MODELS[name]
        model = keras_model(shape, layers)
        data = np.random.default_rng(0).uniform(0, 1, (16, *shape)).astype(np.float32)
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([data[i:i + 1]] for i in range(len(data)))
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
        with open(os.path.join(directory, f"{name}.tflite"), "wb") as f:
            f.write(converter.convert())


def litert_models(names, directory):
    command = [sys.executable, __file__, "--convert-to", directory, "--models", ",".join(names)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit("LiteRT conversion failed:\n" + done.stderr[-3000:])
    return {name: open(os.path.join(directory, f"{name}.tflite"), "rb").read() for name in names}


def litert_call(tflite, shape, batch, threads):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=tflite, num_threads=threads)
    index = interpreter.get_input_details()[0]["index"]
    interpreter.resize_tensor_input(index, [batch, *shape])
    interpreter.allocate_tensors()
    data = np.random.default_rng(1).integers(-128, 128, (batch, *shape)).astype(np.int8)
    interpreter.set_tensor(index, data)
    return interpreter.invoke


# -- the machine ------------------------------------------------------------------------------------
def cpu_name() -> str:
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def measured_peaks() -> dict[str, dict[str, float]]:
    """GMAC/s per core of each family's uint8 and int16 instruction chains (bench/peak.cpp)."""
    binary = os.path.join(tempfile.gettempdir(), f"akq_bench_peak_{os.getuid()}")
    compiler = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++")
    if not compiler:
        return {}
    subprocess.run([compiler, "-O2", os.path.join(ROOT, "bench", "peak.cpp"), "-o", binary], check=True)
    return json.loads(subprocess.run([binary], capture_output=True, text=True, check=True).stdout)


# -- main ------------------------------------------------------------------------------------------
def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--threads", default="1")
    parser.add_argument("--batches", default="1,64")
    parser.add_argument("--rounds", type=int, default=5,
                        help="alternating akq/LiteRT rounds; the best counts")
    parser.add_argument("--seconds", type=float, default=0.3, help="minimum time per round")
    parser.add_argument("--fastest-call", action="store_true",
                        help="rate of the fastest single call (wall time) instead of the mean over a round")
    parser.add_argument("--gap-ms", type=float, default=0.0,
                        help="time isolated calls this many ms apart (median wall time), as a stream of "
                             "sporadic inputs sees them: idle threads asleep, caches cold")
    parser.add_argument("--convert-to", help=argparse.SUPPRESS)
    args = parser.parse_args()
    names = args.models.split(",")
    if args.convert_to:
        convert_worker(names, args.convert_to)
        return
    threads = [int(t) for t in args.threads.split(",")]
    batches = [int(b) for b in args.batches.split(",")]

    from akq import _core

    with tempfile.TemporaryDirectory() as directory:
        tflite = litert_models(names, directory)
    peaks = measured_peaks()
    family = _core.simd_level()
    peak = peaks.get(family, {})
    measured = ", ".join(f"{k} {v['uint8']:.0f} uint8 / {v['int16']:.0f} int16" for k, v in peaks.items())
    print(f"{cpu_name()}; akq kernels: {family} (CPU has {', '.join(_core.supported_simd_levels())}); "
          f"measured peaks per core: {measured} GMAC/s; load average {os.getloadavg()[0]:.1f}")
    header = (f"{'model':<12}{'MMAC':>7}{'thr':>4}{'batch':>6}{'akq/s':>10}{'LiteRT/s':>10}{'akq/LiteRT':>11}"
              f"{'GMAC/s':>8}{'%peak':>7}{'LiteRT GMAC/s':>14}  family")
    print(header)
    print("-" * len(header))
    for name in names:
        shape, layers = MODELS[name]
        rng = np.random.default_rng(0)
        model = akq_model(shape, layers, rng, rng.integers(0, 256, (32, *shape)).astype(np.uint8))
        mac = macs(shape, layers)
        total_mac = sum(mac.values())
        data = rng.integers(0, 256, (max(batches), *shape)).astype(np.uint8)
        for t in threads:
            for batch in batches:
                x = data[:batch]
                lite = litert_call(tflite[name], shape, batch, t)
                akq_s, lite_s = float("inf"), float("inf")
                for _ in range(args.rounds):
                    timing = (args.seconds, t, args.fastest_call, args.gap_ms / 1e3)
                    akq_s = min(akq_s, time_call(lambda: model.predict(x, threads=t), *timing))
                    lite_s = min(lite_s, time_call(lite, *timing))
                rate, lite_rate = batch / akq_s, batch / lite_s
                print(f"{name:<12}{total_mac / 1e6:>7.2f}{t:>4}{batch:>6}{rate:>10.0f}{lite_rate:>10.0f}"
                      f"{rate / lite_rate:>10.2f}x{rate * total_mac / 1e9:>8.1f}"
                      f"{100 * peak_fraction(mac, peak, rate / t):>7.1f}"
                      f"{lite_rate * total_mac / 1e9:>14.1f}  {_core.simd_level()}")
        stats = model.statistics
        sparsity = np.mean([s.sparsity for s in stats.layers[1:]])
        print(f"{'':<12}mean input sparsity of layers 2..: {sparsity:.2f}")


if __name__ == "__main__":
    main()
