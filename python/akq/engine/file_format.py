"""`.akq` model files: `Model.save`, `akq.load_model`, bytes for pickling (format: docs/file-format.md).

The C++ core writes and reads the format, so C++ programs load the same files. Writes are atomic (a
temporary file in the same directory, fsync, rename): an interrupted save leaves the old file intact.
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


def to_bytes(model) -> bytes:
    """The .akq file contents of `model` (LayerError if the model is invalid)."""
    return _core.serialize_model(model._spec())


def from_bytes(data):
    """The `akq.Model` stored in `data` (bytes-like); ModelFileError if truncated, corrupted or invalid."""
    from .model import Model

    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ModelFileError(
            f"from_bytes expects the contents of a .akq file as bytes, bytearray or memoryview, "
            f"got {type(data).__name__}"
        )
    return Model._from_spec(_core.deserialize_model(bytes(data)))


def save(model, path) -> None:
    """Write `model` to the .akq file `path`, replacing it atomically."""
    _core.save_model_file(model._spec(), _path(path))


def load_model(path):
    """Load the `akq.Model` saved at `path` (ModelFileError if the file is not a valid .akq model)."""
    from .model import Model

    return Model._from_spec(_core.load_model_file(_path(path)))
