"""The optional parts of akq and the extra that installs each.

`pip install akq` is the engine, the .akq files, the device model and the CLI's info/run/bench, with
numpy only. The Keras side (quantization layers, quantize, convert, legacy .h5 files) needs TensorFlow
and h5py: `akq[keras]`; the demo and the plots also need mlxtend and matplotlib: `akq[demo]`.
"""

from __future__ import annotations

from importlib import import_module

from .errors import MissingDependencyError

_EXTRA_OF = {"tensorflow": "keras", "keras": "keras", "h5py": "keras", "matplotlib": "demo", "mlxtend": "demo"}


def require(module: str, feature: str, package: str | None = None, extra: str | None = None):
    """`import_module(module, package)`, or a one-line MissingDependencyError saying which extra installs
    the missing third-party package (`extra` overrides the package's own, e.g. 'demo' for the demo)."""
    try:
        return import_module(module, package)
    except ModuleNotFoundError as error:
        missing = (error.name or "").split(".")[0]
        if missing not in _EXTRA_OF:
            raise
        raise MissingDependencyError(f"{feature} needs {missing}, which is not installed: "
                                     f"pip install 'akq[{extra or _EXTRA_OF[missing]}]'") from None
