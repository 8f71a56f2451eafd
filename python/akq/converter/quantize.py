"""Scale factors and integer weights of neural layers, through their own weight quantizers.

The quantizer's `scale_factor` runs in TensorFlow float32 (so custom quantizers work and the Std
quantizers' reduce_std is bit-exact with the reference, docs/spec A.1/F.2); the integers are
clip(rne(w * sf), -kmax, kmax), or rne(quantize(w) * sf) for quantizers with their own `quantize`.
"""

from __future__ import annotations

import numpy as np

from .. import _core
from ..errors import QuantizationError


def bitwidth(quantizer, label: str) -> int:
    bits = getattr(quantizer, "bitwidth", None)
    if not isinstance(bits, (int, np.integer)) or not 2 <= bits <= 8:
        raise QuantizationError(
            f"layer {label}: weight quantizer {type(quantizer).__name__} has bitwidth {bits!r}; integer "
            "weights are stored in int8, so use a bitwidth between 2 and 8")
    return int(bits)


def scale_factor(quantizer, kernel: np.ndarray, label: str) -> np.ndarray:
    """The quantizer's scale factor for `kernel`: a float32 scalar (per-tensor) or (F,) vector (per-axis)."""
    import tensorflow as tf

    if not callable(getattr(quantizer, "scale_factor", None)):
        raise QuantizationError(
            f"layer {label} has no weight quantizer (got {quantizer!r}); give it one, e.g. "
            "quantizer=akq.quantization_ops.MaxPerAxisQuantizer(bitwidth=4)")
    try:
        sf = _max_scale_factor(quantizer, kernel)
    except QuantizationError as error:
        raise QuantizationError(f"layer {label}: {error}") from None
    if sf is None:
        sf = np.asarray(quantizer.scale_factor(tf.constant(kernel)), dtype=np.float32)
    if sf.ndim > 1 or (sf.ndim == 1 and sf.size not in (1, kernel.shape[-1])):
        raise QuantizationError(
            f"layer {label}: {type(quantizer).__name__}.scale_factor returned shape {sf.shape}; it must return "
            f"a scalar or one value per output channel ({kernel.shape[-1]})")
    if not np.all(np.isfinite(sf)) or np.any(sf <= 0):
        raise QuantizationError(
            f"layer {label}: {type(quantizer).__name__}.scale_factor returned {sf.min()}..{sf.max()}; scale "
            "factors must be finite and positive (check for NaN or infinite weights)")
    return sf


def _max_scale_factor(quantizer, kernel: np.ndarray) -> np.ndarray | None:
    """The scale factor of an exact MaxQuantizer / MaxPerAxisQuantizer from the C++ kernel (bit-identical
    to their TensorFlow float32 ops, without TensorFlow's per-op cost); None for any other quantizer."""
    from ..quantization_ops import MaxPerAxisQuantizer, MaxQuantizer

    if type(quantizer) not in (MaxQuantizer, MaxPerAxisQuantizer):
        return None
    return _core.scale_factor(kernel, type(quantizer) is MaxPerAxisQuantizer, quantizer.bitwidth)


def integer_weights(quantizer, kernel: np.ndarray, sf: np.ndarray, label: str) -> np.ndarray:
    """int8 weights W with W / sf the quantized kernel, in the Keras layout of `kernel`."""
    kmax = 2 ** (bitwidth(quantizer, label) - 1) - 1
    if _is_linear(quantizer):
        try:
            return _core.quantize_int8(kernel, sf, quantizer.bitwidth)
        except QuantizationError as error:
            raise QuantizationError(f"layer {label}: {error}") from None
    import tensorflow as tf

    values = np.rint(np.asarray(quantizer.quantize(tf.constant(kernel)), np.float32) * sf)
    if np.any(np.abs(values) > kmax):
        raise QuantizationError(
            f"layer {label}: {type(quantizer).__name__}.quantize(w) * scale_factor(w) reaches {np.abs(values).max()}, "
            f"beyond kmax={kmax} of its {quantizer.bitwidth}-bit grid; quantize must return k / sf, |k| <= kmax")
    return values.astype(np.int8)


def _is_linear(quantizer) -> bool:
    """True if the quantizer uses the standard quantize (clip(rne(w * sf)) / sf) of LinearWeightQuantizer."""
    from ..quantization_ops import LinearWeightQuantizer

    return isinstance(quantizer, LinearWeightQuantizer) and \
        type(quantizer).quantize is LinearWeightQuantizer.quantize
