"""Quantize kernels: akq._core (C++, one thread) vs the Keras quantizers (TensorFlow eager).

For a 3x3x512x512 and a 4096x4096 float32 kernel, per-tensor and per-axis, Max and Std, prints the
median time per call of
  quantize    scale factor + fake-quantized weights (what a quantizer's quantize(w) does), vs Keras
  sf          the scale factor alone, vs the Keras quantizer's scale_factor(w)
  int8        the int8 weights for a given sf (what conversion needs)
  fake        the fake-quantized weights for a given sf
with the ratio to TensorFlow and the bandwidth (bytes read + written per second), next to this
machine's single-core memory bandwidth (numpy copy of 256 MiB). Figures are given by wall clock and
by the calling thread's CPU time: on a shared machine the latter shows the kernels' own speed.

    PYTHONPATH=python python bench/quantize.py [--repeats N]

Targets (issue 2): >= 10x TensorFlow, >= half of one core's memory bandwidth.
"""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
from akq import _core

SHAPES = [(3, 3, 512, 512), (4096, 4096)]
QUANTIZERS = [  # (method, per_axis, Keras class name)
    ("max", False, "MaxQuantizer"),
    ("max", True, "MaxPerAxisQuantizer"),
    ("std", False, "StdWeightQuantizer"),
    ("std", True, "StdPerAxisQuantizer"),
]
BITWIDTH, THRESHOLD = 8, 3.0


def median_seconds(fn, repeats, clock=time.perf_counter):
    fn()  # warm up (first-touch pages, TF kernels)
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        times.append(clock() - start)
    return statistics.median(times)


def timings(fn, repeats):
    """(wall-clock, this thread's CPU time) medians in seconds: the CPU time leaves out the waits of a
    loaded machine (the akq kernels run on the calling thread)."""
    return median_seconds(fn, repeats), median_seconds(fn, repeats, time.thread_time)


def copy_bandwidths(repeats):
    """Single-core read+write GB/s (wall, CPU) of a 256 MiB numpy copy: into a preallocated array
    (the memory bandwidth) and into a fresh one (plus the kernel zeroing new pages, like a new output)."""
    src = np.ones(64 * 2**20, np.float32)
    dst = np.empty_like(src)
    into = timings(lambda: np.copyto(dst, src), repeats)
    fresh = timings(lambda: src.copy(), repeats)
    return [2 * src.nbytes / t / 1e9 for t in into], [2 * src.nbytes / t / 1e9 for t in fresh]


def keras_quantizer(name):
    from akq import quantization_ops

    cls = getattr(quantization_ops, name)
    return cls(bitwidth=BITWIDTH) if name.startswith("Max") else cls(THRESHOLD, BITWIDTH)


def measure(w, w_tf, method, per_axis, name, repeats):
    """Rows (op, akq (wall, CPU) seconds, TF seconds or None, bytes read + written) of one quantizer."""
    quantizer = keras_quantizer(name)
    sf = _core.scale_factor(w, method, per_axis, BITWIDTH, THRESHOLD)
    n = w.size

    def akq_quantize():
        return _core.fake_quantize(w, _core.scale_factor(w, method, per_axis, BITWIDTH, THRESHOLD), BITWIDTH)

    ops = {  # op: (akq call, TF call or None, bytes read + written)
        "quantize": (akq_quantize, lambda: quantizer.quantize(w_tf), 12 * n),
        "sf": (lambda: _core.scale_factor(w, method, per_axis, BITWIDTH, THRESHOLD),
               lambda: quantizer.scale_factor(w_tf), 4 * n),
        "int8": (lambda: _core.quantize_int8(w, sf, BITWIDTH), None, 5 * n),
        "fake": (lambda: _core.fake_quantize(w, sf, BITWIDTH), None, 8 * n),
    }
    for op, (akq_call, tf_call, nbytes) in ops.items():
        tf_s = median_seconds(tf_call, repeats) if tf_call else None
        yield op, timings(akq_call, 2 * repeats), tf_s, nbytes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)

    import tensorflow as tf

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    (bw_wall, bw_cpu), (fresh_wall, fresh_cpu) = copy_bandwidths(args.repeats)
    print(f"single-core memory bandwidth, numpy copy read+write (wall / CPU time): {bw_wall:.1f} / {bw_cpu:.1f} GB/s"
          f" into a preallocated array, {fresh_wall:.1f} / {fresh_cpu:.1f} GB/s into a fresh one")
    print(f"TensorFlow {tf.__version__} eager, {tf.config.threading.get_intra_op_parallelism_threads() or 'all'}"
          f" intra-op threads; akq one thread. x TF from wall-clock medians; % bw = akq GB/s / preallocated copy\n")
    header = (f"{'kernel':<13}{'quantizer':<21}{'op':<10}{'TF ms':>9}{'akq ms':>8}{'x TF':>7}{'GB/s':>7}{'% bw':>6}"
              f"  |{'CPU ms':>8}{'GB/s':>7}{'% bw':>6}")
    print(header)
    print("-" * len(header))
    rng = np.random.default_rng(0)
    for shape in SHAPES:
        w = rng.normal(size=shape).astype(np.float32)
        w_tf = tf.constant(w)
        for method, per_axis, name in QUANTIZERS:
            for op, (wall, cpu), tf_s, nbytes in measure(w, w_tf, method, per_axis, name, args.repeats):
                tf_ms, ratio = f"{'':9}", f"{'':7}"
                if tf_s:
                    tf_ms, ratio = f"{tf_s * 1e3:9.2f}", f"{tf_s / wall:7.1f}"
                print(f"{'x'.join(map(str, shape)):<13}{name:<21}{op:<10}{tf_ms}{wall * 1e3:8.2f}{ratio}"
                      f"{nbytes / wall / 1e9:7.1f}{100 * nbytes / wall / 1e9 / bw_wall:5.0f}%"
                      f"  |{cpu * 1e3:8.2f}{nbytes / cpu / 1e9:7.1f}{100 * nbytes / cpu / 1e9 / bw_cpu:5.0f}%")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
