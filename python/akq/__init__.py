"""akq: quantization-aware Keras layers, conversion and a bit-exact engine for the Akida 1.0 chip.

`import akq` is cheap and does not import TensorFlow: the engine (`akq.Model`, `akq.load_model`,
`akq.AKD1000`) works in a process without it, and without TensorFlow installed (`pip install akq`).
Keras-facing names are imported on first use; without the `akq[keras]` extra they raise a
MissingDependencyError saying what to install.
"""

from ._version import __version__
from .errors import AkqError
from .extras import require as _require

# public name -> module that defines it (imported lazily, on first attribute access)
_LAZY = {
    "quantization_ops": None,
    "quantization_layers": None,
    "gamma_constraint": None,
    "plot": None,
    "errors": None,
    "quantize": "quantization",
    "quantize_layer": "quantization",
    "convert": "converter",
    "check_model_compatibility": "converter",
    "Model": "model",
    "load_model": "model",
    "LayerType": "model",
    "Padding": "model",
    "PoolType": "model",
    "InputData": "model",
    "InputConvolutional": "model",
    "Convolutional": "model",
    "SeparableConvolutional": "model",
    "FullyConnected": "model",
    "AKD1000": "device",
    "check_hardware": "device",
    "Performance": "device",
    "from_akida": "interop.akida",
    "load_quantized_model": "interop.legacy_h5",
    "load_partial_weights": "interop.legacy_h5",
    "sweep": "search",
    "SweepResult": "search",
    "AkidaUnsupervised": "model.learning",
}

__all__ = ["AkqError", "__version__", *_LAZY]


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'akq' has no attribute {name!r}")
    module = _require(f".{_LAZY[name] or name}", f"akq.{name}", __name__)
    value = module if _LAZY[name] is None else getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)
