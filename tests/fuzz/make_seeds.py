"""Small valid models, one per layer mix, as the fuzzers' seed corpus.

    PYTHONPATH=python python tests/fuzz/make_seeds.py   # rewrites tests/fuzz/corpus/{model_file,engine}/*

An engine seed is a u16 LE model size, the model's bytes, then a control byte and input bytes
(tests/fuzz/fuzz_engine.cpp).
"""

from __future__ import annotations

import struct
from pathlib import Path

import akq
import numpy as np

CORPUS = Path(__file__).parent / "corpus" / "model_file"
ENGINE_CORPUS = Path(__file__).parent / "corpus" / "engine"


def _fill(model: akq.Model, seed: int) -> akq.Model:
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        bits = layer.parameters.weights_bits if layer.variables else 0
        high = 127 if bits == 8 else (1 if bits == 1 else 2 ** (bits - 1) - 1)
        low = 0 if bits == 1 else -high - (bits == 8)
        for name in layer.variables:
            shape = layer.get_variable(name).shape
            if name.startswith("weights"):
                layer.set_variable(name, rng.integers(low, high + 1, shape).astype(np.int8))
            elif name == "threshold":
                layer.set_variable(name, rng.integers(-1000, 1000, shape).astype(np.int32))
            else:
                layer.set_variable(name, rng.choice(np.float32([0.0625, 1, 1.5, 17.25, 2**24]), shape))
    return model


def seed_models() -> dict[str, akq.Model]:
    """Name -> model with random in-range variables (deterministic)."""
    P, T = akq.PoolType, akq.Padding
    models = {
        "data_fc": akq.Model([akq.InputData((2, 3, 2), name="in"),
                              akq.FullyConnected(3, name="fc", weights_bits=2, activation=False)]),
        "inconv_maxpool": akq.Model([akq.InputConvolutional((5, 4, 1), 3, 2, name="ic", weights_bits=8,
                                                            padding_value=300, pool_type=P.Max, pool_size=2),
                                     akq.FullyConnected(2, name="fc", act_bits=4)]),
        "conv_valid_stride": akq.Model([akq.InputData((6, 5, 2), input_bits=1, name="in"),
                                        akq.Convolutional((3, 1), 2, name="c", padding=T.Valid,
                                                          kernel_stride=(2, 1), weights_bits=4, act_bits=2)]),
        "separable_gap": akq.Model([akq.InputData((3, 3, 2), name="in"),
                                    akq.SeparableConvolutional(3, 2, name="s", pool_type=P.Average,
                                                               activation=False)]),
        "chain": akq.Model([akq.InputConvolutional((4, 4, 3), 3, 2, name="ic", act_bits=4),
                            akq.Convolutional(3, 2, name="c", pool_type=P.Max, pool_size=(2, 1),
                                              pool_stride=(1, 1)),
                            akq.SeparableConvolutional(1, 2, name="s", weights_bits=8),
                            akq.FullyConnected(2, name="fc", weights_bits=1)]),
    }
    return {name: _fill(model, i) for i, (name, model) in enumerate(models.items())}


if __name__ == "__main__":
    CORPUS.mkdir(parents=True, exist_ok=True)
    ENGINE_CORPUS.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for name, model in seed_models().items():
        model.save(CORPUS / f"{name}.akq")
        data = model.to_bytes()
        inputs = bytes([0x80 | 1]) + rng.integers(0, 256, 96, dtype=np.uint8).tobytes()
        (ENGINE_CORPUS / f"{name}.bin").write_bytes(struct.pack("<H", len(data)) + data + inputs)
        print(name, len(data), "bytes")
