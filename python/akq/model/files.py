"""`.akq` model files: ModelSpec <-> file or bytes (format: docs/file-format.md).

The C++ core writes and reads the format, so C++ programs load the same files. Writes are atomic (a
temporary file in the same directory, fsync, rename): an interrupted save leaves the old file intact.
This module knows ModelSpecs only; `akq.Model` wraps what it reads.
"""

from __future__ import annotations

import os

from .. import _core
from ..errors import ModelFileError

FORMAT_VERSION = _core.AKQ_FORMAT_VERSION


def _path(path, argument: str = "path") -> str:
    try:
        text = os.fsdecode(os.fspath(path))
    except TypeError:
        raise TypeError(
            f"{argument} must be a str or os.PathLike file path, got {type(path).__name__}"
        ) from None
    if "\0" in text:  # the C++ side would silently cut the path there
        raise ValueError(f"{argument} contains a NUL character: {text!r}")
    return text


def spec_to_bytes(spec) -> bytes:
    """The .akq file contents of `spec` (LayerError if the model is invalid)."""
    return _core.serialize_model(spec)


def spec_from_bytes(data):
    """The ModelSpec stored in `data` (bytes-like); ModelFileError if truncated, corrupted or invalid."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ModelFileError(
            f"from_bytes expects the contents of a .akq file as bytes, bytearray or memoryview, "
            f"got {type(data).__name__}"
        )
    return _core.deserialize_model(bytes(data))


def write_spec(spec, path) -> None:
    """Write `spec` to the .akq file `path`, replacing it atomically."""
    _core.save_model_file(spec, _path(path))


def read_spec(path):
    """The ModelSpec saved at `path` (ModelFileError if the file is not a valid .akq model)."""
    return _core.load_model_file(_path(path))
