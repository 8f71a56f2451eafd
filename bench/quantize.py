"""Quantize kernels: akq._core (C++, one thread) vs the Keras quantizers (TensorFlow eager).

For a 3x3x512x512 and a 4096x4096 float32 kernel, per-tensor and per-axis Max quantizers (what
akq.convert runs in C++; the Std quantizers' scale factors stay in TensorFlow, see csrc/akq/quantize.cpp),
prints the median time per call of
  sf          the scale factor, vs the Keras quantizer's scale_factor(w)
  int8        the int8 weights for a given sf, vs the same clip(round(w * sf)) cast in TensorFlow
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
QUANTIZERS = [(False, "MaxQuantizer"), (True, "MaxPerAxisQuantizer")]  # (per_axis, Keras class name)
BITWIDTH = 8


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


def measure(w, w_tf, per_axis, name, repeats):
    """Rows (op, akq (wall, CPU) seconds, TF seconds, bytes read + written) of one quantizer."""
    import tensorflow as tf

    from akq import quantization_ops

    quantizer = getattr(quantization_ops, name)(bitwidth=BITWIDTH)
    sf = _core.scale_factor(w, per_axis, BITWIDTH)
    sf_tf, kmax = tf.constant(sf), float(quantizer.kmax_)
    n = w.size
    ops = {  # op: (akq call, TF call, bytes read + written)
        "sf": (lambda: _core.scale_factor(w, per_axis, BITWIDTH), lambda: quantizer.scale_factor(w_tf), 4 * n),
        "int8": (lambda: _core.quantize_int8(w, sf, BITWIDTH),
                 lambda: tf.cast(tf.clip_by_value(tf.round(w_tf * sf_tf), -kmax, kmax), tf.int8), 5 * n),
    }
    for op, (akq_call, tf_call, nbytes) in ops.items():
        yield op, timings(akq_call, 2 * repeats), median_seconds(tf_call, repeats), nbytes


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
        for per_axis, name in QUANTIZERS:
            for op, (wall, cpu), tf_s, nbytes in measure(w, w_tf, per_axis, name, args.repeats):
                print(f"{'x'.join(map(str, shape)):<13}{name:<21}{op:<10}{tf_s * 1e3:9.2f}{wall * 1e3:8.2f}"
                      f"{tf_s / wall:7.1f}"
                      f"{nbytes / wall / 1e9:7.1f}{100 * nbytes / wall / 1e9 / bw_wall:5.0f}%"
                      f"  |{cpu * 1e3:8.2f}{nbytes / cpu / 1e9:7.1f}{100 * nbytes / cpu / 1e9 / bw_cpu:5.0f}%")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
