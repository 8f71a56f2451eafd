"""The virtual AKD1000 against BrainChip's published figures (akida CLI examples on the reference board).

Builds AkidaNet 0.5 at 224x224 and DS-CNN KWS (8-bit input layer, 4-bit weights and activations) by hand,
with random weights whose thresholds are set layer by layer so that 40-60 % of the activations are zero on
smooth random "natural" inputs, runs them on the engine, maps them and prints akq.Performance's estimates
next to the published numbers (docs/spec D.7), then the effect of input sparsity.

    PYTHONPATH=python python bench/device.py [--frames 4] [--plot performance.png]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import akq
import numpy as np
from akq import _core
from akq.device.performance import Performance

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from published_models import PUBLISHED, akidanet_layers, calibrated_model, ds_cnn_layers, natural_inputs  # noqa: E402

RNG = np.random.default_rng(2024)


def report(name, model, inputs, plot=None, mode="all_nps"):
    model.map(akq.AKD1000(), mode=mode)
    started = time.perf_counter()
    model.forward(inputs)
    seconds = time.perf_counter() - started
    perf = Performance(model)
    pub = PUBLISHED[name]
    zero = [1 - s.input_events / (s.samples * s.input_size) for s in model.statistics.layers[1:]]
    print(f"\n== {name}: {len(inputs)} frames on the engine in {seconds:.2f} s; layer input zeros "
          f"{min(zero):.0%}-{max(zero):.0%} (after the dense input layer)")
    print(perf)
    frames = pub["frames"]
    clocks = perf.clocks(frames)
    run_seconds = clocks / perf.clock_hz
    rows = [("NPs", pub["nps"], perf.nps), ("program bytes", pub["program"], perf.program_bytes),
            (f"inference clocks, {frames} frame(s)", pub["clocks"], clocks)]
    if "fps" in pub:  # over the published run: pipelined frames, board floor power while it lasts
        rows += [(f"frames/s over {frames} frames", pub["fps"], frames / run_seconds),
                 ("energy/frame mJ (board)", pub["energy_mj"],
                  (perf.dynamic_energy_j + _core.STATIC_POWER_W * run_seconds / frames) * 1e3),
                 ("dynamic energy/frame mJ", pub["dynamic_mj"], perf.dynamic_energy_j * 1e3)]
    if "dense_clocks" in pub:  # unconfirmed: one random (dense) frame
        noise = RNG.integers(0, 256, (1, *model.input_shape)).astype(np.uint8)
        model.forward(noise)
        rows.append(("clocks, 1 uniform-noise frame (?)", pub["dense_clocks"], Performance(model).clocks(1)))
    print(f"{'':<34}{'published':>14}{'akq':>14}{'off':>9}")
    for label, published, ours in rows:
        print(f"{label:<34}{published:>14,.2f}{ours:>14,.2f}{(ours - published) / published:>+9.0%}")
    if plot:
        from akq.plot.performance import plot_performance

        plot_performance(perf, plot)
        print(f"per-layer chart: {plot}")
    return perf


def sparsity_effect(name, layers, shape, frames):
    """Clocks per frame when the input itself is sparse (fewer events everywhere)."""
    dense = natural_inputs(frames, shape, RNG) // 16  # InputData takes 4-bit values
    model = calibrated_model(layers, dense, RNG)
    model.map(akq.AKD1000(), mode="all_nps")
    rows = []
    for zero in (0.0, 0.5, 0.9, 0.99):
        x = dense * (RNG.random(dense.shape) >= zero)
        model.forward(x.astype(np.uint8))
        rows.append((zero, Performance(model).clocks(1)))
    base = rows[0][1]
    print(f"\n== {name}: input zeros vs clocks for one frame (the chip reports up to 58x fewer with sparse inputs)")
    for zero, clocks in rows:
        print(f"  {zero:>5.0%} zero inputs: {clocks:>12,.0f} clocks ({base / clocks:.1f}x fewer than dense)")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=4)
    parser.add_argument("--plot", default=None, help="save AkidaNet's per-layer chart to this PNG")
    args = parser.parse_args()
    images = natural_inputs(args.frames, (224, 224, 3), RNG)
    report("AkidaNet 0.5/224", calibrated_model(akidanet_layers(), images, RNG), images, args.plot)
    mfcc = natural_inputs(args.frames, (49, 10, 1), RNG)
    report("DS-CNN KWS", calibrated_model(ds_cnn_layers(), mfcc, RNG), mfcc)
    sparsity_effect("DS-CNN KWS (InputData 49x10x8 variant)", [akq.InputData((49, 10, 8), name="in")]
                    + ds_cnn_layers()[1:], (49, 10, 8), args.frames)


if __name__ == "__main__":
    main()
