"""Deterministic mutation fuzzing through the Python entry points (no clang needed).

Reader: each mutant of a seed file (bit flips, interesting integers and floats, truncation,
insertion, deletion, splicing) must either raise ModelFileError or load as a model whose bytes are
exactly the mutant. Most mutants get their CRC-32 recomputed so they reach the parser, not just the
checksum. Engine: every mutant that loads runs forward/predict on random inputs (in or out of the
input range) with the scalar kernels on one thread and every other SIMD family the CPU has on two:
either all raise the same typed error or all give bit-identical outputs.

    PYTHONPATH=python python tests/fuzz/mutate.py [reader|engine] [iterations=100000] [seed=0]
"""

from __future__ import annotations

import random
import struct
import sys
import zlib
from pathlib import Path

import akq
import numpy as np
from akq import _core
from akq.errors import AkqError, ModelFileError

CORPUS = Path(__file__).parent / "corpus" / "model_file"
INTERESTING_INTS = [0, 1, -1, 2, 3, 4, 8, 16, 255, 256, 65535, 65536, 65537, 2**28, 2**30, 2**31 - 1, -2**31,
                    2**32 - 1]
INTERESTING_FLOATS = [float("nan"), float("inf"), float("-inf"), 0.0, -0.0, 0.0624, 0.0625, 2.0**24, 3.4e38,
                      1e-45]


def seeds() -> list[bytes]:
    return [p.read_bytes() for p in sorted(CORPUS.glob("*.akq"))]


def mutate(data: bytes, rng: random.Random, corpus: list[bytes]) -> bytes:
    out = bytearray(data)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        kind = rng.randrange(8)
        pos = rng.randrange(len(out)) if out else 0
        if kind == 0 and out:
            out[pos] ^= 1 << rng.randrange(8)
        elif kind == 1 and out:
            out[pos] = rng.randrange(256)
        elif kind == 2:
            value = rng.choice(INTERESTING_INTS) if rng.random() < 0.8 else rng.getrandbits(32)
            out[pos:pos + 4] = struct.pack("<I", value % 2**32)
        elif kind == 3:
            out[pos:pos + 4] = struct.pack("<f", rng.choice(INTERESTING_FLOATS))
        elif kind == 4:
            del out[rng.randrange(len(out) + 1):]
        elif kind == 5:
            out[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 9)))
        elif kind == 6 and out:
            del out[pos:pos + rng.randrange(1, 17)]
        else:
            other = rng.choice(corpus)
            cut = rng.randrange(len(other))
            out[pos:] = other[cut:cut + rng.randrange(1, 64)] + out[pos:]
    if len(out) >= 36 and rng.random() < 0.8:
        out[-4:] = struct.pack("<I", zlib.crc32(bytes(out[:-4])))
    return bytes(out)


def run(iterations: int, seed: int = 0) -> dict[str, int]:
    """Fuzz `iterations` mutants; returns counts of 'rejected' and 'accepted'. Raises on a finding."""
    rng = random.Random(seed)
    corpus = seeds()
    if not corpus:
        raise RuntimeError(f"no seed files in {CORPUS}")
    counts = {"rejected": 0, "accepted": 0}
    for _ in range(iterations):
        mutant = mutate(rng.choice(corpus), rng, corpus)
        try:
            model = akq.Model.from_bytes(mutant)
        except ModelFileError:
            counts["rejected"] += 1
            continue
        if model.to_bytes() != mutant:
            raise AssertionError(f"accepted mutant does not round-trip exactly: {mutant.hex()}")
        counts["accepted"] += 1
        if len(corpus) < 200:  # keep accepted variants as seeds: they differ in ways the parser liked
            corpus.append(mutant)
    return counts


def _outputs(model, x, level, threads):
    _core.set_simd_level(level)
    try:
        forward = model.forward(x, threads=threads)
        last = model.layers[-1]
        if last.parameters.layer_type != akq.LayerType.InputData and not last.parameters.activation:
            return forward, model.predict(x, threads=threads).view(np.uint32)  # NaN-safe bit comparison
        return (forward,)
    except AkqError as e:
        return type(e).__name__
    finally:
        _core.set_simd_level("auto")


def run_engine(iterations: int, seed: int = 0, max_inputs: int = 4096) -> dict[str, int]:
    """Mutated models on random inputs, scalar vs every SIMD family; returns counts. Raises on a mismatch."""
    rng = random.Random(seed)
    corpus = seeds()
    levels = _core.supported_simd_levels()
    counts = {"not loaded": 0, "too big": 0, "compared": 0}
    for _ in range(iterations):
        mutant = mutate(rng.choice(corpus), rng, corpus)
        try:
            model = akq.Model.from_bytes(mutant)
        except ModelFileError:
            counts["not loaded"] += 1
            continue
        dims = model.input_shape
        if int(np.prod(dims)) * sum(layer._spec.weights.size + 1 for layer in model.layers) > 50 * max_inputs:
            counts["too big"] += 1
            continue
        batch = rng.randrange(1, 4)
        x = np.random.default_rng(rng.getrandbits(32)).integers(0, 256 if rng.random() < 0.3 else 16,
                                                                 (batch, *dims), dtype=np.uint8)
        results = [_outputs(model, x, level, 1 if level == "scalar" else 2) for level in levels]
        for level, other in zip(levels[1:], results[1:]):
            if isinstance(other, str) or isinstance(results[0], str):
                same = other == results[0]
            else:
                same = all(np.array_equal(a, b) for a, b in zip(results[0], other))
            if not same:
                raise AssertionError(f"scalar and {level} differ on model {model.to_bytes().hex()} "
                                     f"input {x.tobytes().hex()}")
        outcome = results[0] if isinstance(results[0], str) else "compared"
        counts[outcome] = counts.get(outcome, 0) + 1
        if len(corpus) < 200:
            corpus.append(mutant)
    return counts


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "reader"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    print((run if target == "reader" else run_engine)(n, int(sys.argv[3]) if len(sys.argv) > 3 else 0))
