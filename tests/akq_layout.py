"""An independent Python codec of the .akq layout of docs/file-format.md (struct + zlib), for tests.

It lets the tests check the C++ writer byte by byte against the document, and forge hostile files
field by field (with or without a valid checksum).
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

MAGIC = b"\x89AKQ\r\n\x1a\n"
HEADER = struct.Struct("<8sIIQII")  # magic, version, flags, body size, layer count, reserved
HEADER_SIZE = HEADER.size  # 32
FIXED = struct.Struct("<4B3i3ii2i2i2i2i4i")  # type..activation, dims, input_bits, kernel/pool, filters...

LAYER_FIELDS = ("type", "padding", "pool_type", "activation", "input_dims", "output_dims", "input_bits",
                "kernel_size", "kernel_stride", "pool_size", "pool_stride", "filters", "weights_bits",
                "act_bits", "padding_value")


def layer_dict(layer) -> dict:
    """The stored fields of an akq layer (from its C++ spec), as plain Python values."""
    spec = layer._spec
    return {
        "name": spec.name.encode(), "type": int(spec.type), "padding": int(spec.padding),
        "pool_type": int(spec.pool_type), "activation": int(spec.activation),
        "input_dims": tuple(spec.input_dims), "output_dims": tuple(spec.output_dims),
        "input_bits": spec.input_bits, "kernel_size": tuple(spec.kernel_size),
        "kernel_stride": tuple(spec.kernel_stride), "pool_size": tuple(spec.pool_size),
        "pool_stride": tuple(spec.pool_stride), "filters": spec.filters, "weights_bits": spec.weights_bits,
        "act_bits": spec.act_bits, "padding_value": spec.padding_value,
        "weights": (tuple(spec.weights.shape), spec.weights.tobytes()),
        "weights_pw": (tuple(spec.weights_pw.shape), spec.weights_pw.tobytes()),
        "threshold": [int(t) for t in spec.threshold],
        "act_step": spec.act_step.astype("<f4").tobytes(),
    }


def encode_layer(d: dict) -> bytes:
    flat = [d["type"], d["padding"], d["pool_type"], d["activation"], *d["input_dims"], *d["output_dims"],
            d["input_bits"], *d["kernel_size"], *d["kernel_stride"], *d["pool_size"], *d["pool_stride"],
            d["filters"], d["weights_bits"], d["act_bits"], d["padding_value"]]
    out = struct.pack("<I", d.get("name_size", len(d["name"]))) + d["name"] + FIXED.pack(*flat)
    for key in ("weights", "weights_pw"):
        shape, data = d[key]
        out += struct.pack("<4i", *shape) + data
    out += struct.pack("<I", d.get("threshold_count", len(d["threshold"])))
    out += struct.pack(f"<{len(d['threshold'])}i", *d["threshold"])
    out += struct.pack("<I", d.get("act_step_count", len(d["act_step"]) // 4)) + d["act_step"]
    return out


LEARNING = struct.Struct("<2i4d")  # num_weights, num_classes, the four plasticity parameters (version 2)
PLASTICITY = ("initial_plasticity", "learning_competition", "min_plasticity", "plasticity_decay")


def learning_dict(model) -> dict:
    """The stored learning record of a model compiled for learning, as plain Python values."""
    learning, last = model.learning, model.layers[-1]
    return {"num_weights": learning.num_weights, "num_classes": learning.num_classes,
            **{name: getattr(learning, name) for name in PLASTICITY},
            "threshold_learning": [int(v) for v in last.get_variable("threshold_learning")],
            "thswap": [int(v) for v in last.get_variable("thswap")]}


def encode_learning(d: dict) -> bytes:
    out = LEARNING.pack(d["num_weights"], d["num_classes"], *(d[name] for name in PLASTICITY))
    for key in ("threshold_learning", "thswap"):
        out += struct.pack(f"<I{len(d[key])}i", d.get(key + "_count", len(d[key])), *d[key])
    return out


def encode(layers: list[dict], *, version=None, learning=None, flags=0, reserved=0, layer_count=None, body_size=None,
           extra_body=b"", crc=None) -> bytes:
    """A .akq byte string; the keyword arguments forge individual header fields."""
    body = b"".join(encode_layer(d) for d in layers) + (encode_learning(learning) if learning else b"") + extra_body
    version = (2 if learning else 1) if version is None else version
    head = HEADER.pack(MAGIC, version, flags, len(body) if body_size is None else body_size,
                       len(layers) if layer_count is None else layer_count, reserved)
    return with_crc(head + body + b"\0\0\0\0") if crc is None else head + body + struct.pack("<I", crc)


def with_crc(data: bytes) -> bytes:
    """`data` with its last 4 bytes replaced by the CRC-32 of the rest (so parsing gets past the checksum)."""
    return data[:-4] + struct.pack("<I", zlib.crc32(data[:-4]))


def decode(data: bytes) -> tuple[tuple, list[dict], dict | None]:
    """(header fields, layer dicts, learning record or None) of a well-formed file; asserts the checksum
    and that no byte is left."""
    header = HEADER.unpack_from(data)
    assert struct.unpack_from("<I", data, len(data) - 4)[0] == zlib.crc32(data[:-4])
    pos, layers = HEADER_SIZE, []
    for _ in range(header[4]):
        d = {}
        (size,) = struct.unpack_from("<I", data, pos)
        d["name"] = data[pos + 4:pos + 4 + size]
        pos += 4 + size
        values = list(FIXED.unpack_from(data, pos))
        pos += FIXED.size
        for key, width in zip(LAYER_FIELDS, (1, 1, 1, 1, 3, 3, 1, 2, 2, 2, 2, 1, 1, 1, 1)):
            d[key] = values[0] if width == 1 else tuple(values[:width])
            del values[:width]
        for key in ("weights", "weights_pw"):
            shape = struct.unpack_from("<4i", data, pos)
            count = int(np.prod(shape))
            d[key] = (shape, data[pos + 16:pos + 16 + count])
            pos += 16 + count
        (n,) = struct.unpack_from("<I", data, pos)
        d["threshold"] = list(struct.unpack_from(f"<{n}i", data, pos + 4))
        pos += 4 + 4 * n
        (n,) = struct.unpack_from("<I", data, pos)
        d["act_step"] = data[pos + 4:pos + 4 + 4 * n]
        pos += 4 + 4 * n
        layers.append(d)
    learning = None
    if header[1] == 2:
        values = LEARNING.unpack_from(data, pos)
        learning = dict(zip(("num_weights", "num_classes", *PLASTICITY), values))
        pos += LEARNING.size
        for key in ("threshold_learning", "thswap"):
            (n,) = struct.unpack_from("<I", data, pos)
            learning[key] = list(struct.unpack_from(f"<{n}i", data, pos + 4))
            pos += 4 + 4 * n
    assert pos == HEADER_SIZE + header[3] == len(data) - 4
    return header, layers, learning
