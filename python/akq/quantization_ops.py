"""Weight quantizers: symmetric, uniform fake quantization of float kernels (docs/spec A.1).

A quantizer turns a float32 kernel `w` (last axis = output filters/units) into
`wq = clip(round(w * sf), -kmax, kmax) / sf`, with `kmax = 2^(bitwidth-1) - 1` and a scale factor
`sf` (a scalar, or one value per output channel). Rounding is round-half-to-even, done with a
straight-through estimator so that training sees the identity gradient.

TensorFlow-only module: the scale factors use TensorFlow's float32 reductions (`tf.math.reduce_std`,
`tf.reduce_max`) because conversion must reproduce the reference's values to the last bit.

Quantizers are plain Python objects, not Keras layers (Keras 3 reserves `Layer.quantize(mode)`);
they are Keras-serializable through `get_config` / `from_config` and live inside the config of the
quantized layer that uses them.
"""

from __future__ import annotations

import numbers

import keras
import tensorflow as tf

from . import _core
from .errors import QuantizationError

#: Scale factors are clipped to [0, SCALE_FACTOR_MAX]: tiny (or all-zero) kernels quantize to 0.
SCALE_FACTOR_MAX = _core.SCALE_FACTOR_MAX
#: Per-axis ranges are clamped below at this value before dividing.
PER_AXIS_RANGE_MIN = _core.RANGE_MIN
_FLOAT32_MAX = float(tf.float32.max)


def is_integer(value) -> bool:
    """True for ints and integral floats (not bools, not strings)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and float(value).is_integer()


def round_ste(x):
    """Round half to even in the forward pass, identity gradient in the backward pass."""
    return x + tf.stop_gradient(tf.round(x) - x)


def _clip_scale_factor(sf):
    return tf.clip_by_value(sf, 0.0, SCALE_FACTOR_MAX)


def _reduction_axes(w):
    """All axes but the last one (the output channel axis)."""
    return list(range(len(w.shape) - 1))


@keras.saving.register_keras_serializable(package="akq")
class WeightQuantizer:
    """Base class of weight quantizers.

    Subclasses define `scale_factor(w)` (a float32 scalar or per-output-channel vector) and
    `quantize(w)` (the fake-quantized kernel, same shape and dtype as `w`).

    Parameters
    ----------
    bitwidth : int
        Number of bits of the quantized weights (> 1). The integer weights lie in
        `[-kmax_, kmax_]` with `kmax_ = 2^(bitwidth-1) - 1`.
    """

    def __init__(self, bitwidth: int = 4):
        if not is_integer(bitwidth) or bitwidth <= 1:
            raise QuantizationError(
                f"{type(self).__name__}: the quantization bitwidth must be an integer higher than 1, "
                f"got {bitwidth!r}. Use bitwidth=2 or more (Akida takes 2, 4 or 8 bits).")
        self.bitwidth = int(bitwidth)
        self.kmax_ = 2 ** (self.bitwidth - 1) - 1

    def scale_factor(self, w):
        """The scale factor `sf` such that `quantize(w) * sf` is an integer in [-kmax_, kmax_]."""
        raise NotImplementedError(f"{type(self).__name__} must define scale_factor(w)")

    def quantize(self, w):
        """The fake-quantized kernel (float32, same shape as `w`)."""
        raise NotImplementedError(f"{type(self).__name__} must define quantize(w)")

    def get_config(self) -> dict:
        return {"bitwidth": self.bitwidth}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __eq__(self, other):
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self):
        return hash((type(self), tuple(sorted(self.get_config().items()))))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


@keras.saving.register_keras_serializable(package="akq")
class LinearWeightQuantizer(WeightQuantizer):
    """A quantizer whose `quantize` only scales, rounds and clips; subclasses define `scale_factor`."""

    def quantize(self, w):
        w = tf.convert_to_tensor(w, dtype=tf.float32)
        sf = self.scale_factor(w)
        return tf.clip_by_value(round_ste(w * sf), -self.kmax_, self.kmax_) / sf


@keras.saving.register_keras_serializable(package="akq")
class MaxQuantizer(LinearWeightQuantizer):
    """Range = max |w| over the whole kernel (one scale factor per layer)."""

    def scale_factor(self, w):
        return _clip_scale_factor(self.kmax_ / tf.reduce_max(tf.abs(w)))


@keras.saving.register_keras_serializable(package="akq")
class MaxPerAxisQuantizer(LinearWeightQuantizer):
    """Range = max |w| per output channel (one scale factor per filter/unit)."""

    def scale_factor(self, w):
        r = tf.reduce_max(tf.abs(w), axis=_reduction_axes(w))
        r = tf.clip_by_value(r, PER_AXIS_RANGE_MIN, _FLOAT32_MAX)
        return _clip_scale_factor(self.kmax_ / r)


@keras.saving.register_keras_serializable(package="akq")
class StdWeightQuantizer(LinearWeightQuantizer):
    """Range = threshold * std(w) over the whole kernel; weights beyond it saturate at +-kmax.

    Parameters
    ----------
    threshold : float
        Number of standard deviations covered by the quantization range.
    bitwidth : int
        Number of bits of the quantized weights (> 1).
    """

    def __init__(self, threshold: float = 3, bitwidth: int = 4):
        super().__init__(bitwidth)
        self.threshold = threshold

    def _std(self, w):
        return tf.math.reduce_std(w)

    def scale_factor(self, w):
        return _clip_scale_factor(self.kmax_ / (self.threshold * self._std(w)))

    def get_config(self) -> dict:
        return {"threshold": self.threshold, **super().get_config()}


@keras.saving.register_keras_serializable(package="akq")
class StdPerAxisQuantizer(StdWeightQuantizer):
    """Range = threshold * std(w) per output channel (one scale factor per filter/unit)."""

    def _std(self, w):
        return tf.math.reduce_std(w, axis=_reduction_axes(w))
