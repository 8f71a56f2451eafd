"""Quantization-aware Keras 3 layers with the cnn2snn legacy names (docs/spec A.2, A.3).

The neural layers subclass the Keras layers and compute the same op with fake-quantized kernels (see
`akq.quantization_ops`) plus the float bias. The activations discretize a clipped ReLU on
`2^bitwidth - 1` uniform levels with a ceiling, straight-through in training.

Importing this module registers every class with Keras, so a saved `.keras` model that uses them loads
with `keras.models.load_model(path)` and no `custom_objects`.

The layers use `keras.ops`; the weight quantizers they call are TensorFlow-only.
"""

from __future__ import annotations

import copy

import keras
import numpy as np
from keras import ops

from . import gamma_constraint as _registers_gamma_constraint  # noqa: F401 (saved models may use it)
from .errors import QuantizationError
from .quantization_ops import MaxQuantizer, WeightQuantizer, is_integer

_register = keras.saving.register_keras_serializable(package="akq")

# argument -> (is the value supported?, what to do instead)
_SUPPORT_RULES = {
    "data_format": (lambda layer: layer.data_format == "channels_last",
                    "Use channels_last (NHWC) tensors: drop data_format or pass 'channels_last'"),
    "activation": (lambda layer: layer.activation in (None, keras.activations.linear),
                   "Drop the activation and put a QuantizedReLU or ActivationDiscreteRelu layer after it"),
    "dilation_rate": (lambda layer: tuple(layer.dilation_rate) == (1,) * len(layer.dilation_rate),
                      "Use dilation_rate=1: Akida has no dilated convolutions"),
    "groups": (lambda layer: layer.groups == 1,
               "Use groups=1: Akida has no grouped convolutions (QuantizedSeparableConv2D is depthwise)"),
    "depth_multiplier": (lambda layer: layer.depth_multiplier == 1,
                         "Use depth_multiplier=1: Akida's depthwise stage has one filter per input channel"),
}


def _check_supported(layer, arguments):
    """Raise TypeError for the first of `arguments` whose value the Akida conversion cannot take."""
    for argument in arguments:
        supported, advice = _SUPPORT_RULES[argument]
        if not supported(layer):
            value = getattr(layer, argument)
            value = getattr(value, "__name__", value)
            raise TypeError(f"{type(layer).__name__} '{layer.name}': unsupported argument in quantized "
                            f"layers: {argument}={value!r}. {advice}.")


def _weight_quantizer(value, layer, argument: str, default) -> WeightQuantizer:
    """A WeightQuantizer from a quantizer, its serialized config, or None (-> default)."""
    if value is None:
        return default
    if isinstance(value, dict):
        value = keras.saving.deserialize_keras_object(value)
    if not isinstance(value, WeightQuantizer):
        raise TypeError(f"{type(layer).__name__} '{layer.name}': {argument} must be an akq.quantization_ops."
                        "WeightQuantizer "
                        f"(e.g. MaxPerAxisQuantizer(bitwidth=4)), got {type(value).__name__}.")
    return value


def _serialize(quantizer: WeightQuantizer) -> dict:
    return keras.saving.serialize_keras_object(quantizer)


class _QuantizedKernelMixin:
    """Holds the `quantizer` of a neural layer and puts it into the layer config."""

    def _set_quantizer(self, quantizer):
        default = MaxQuantizer(bitwidth=4)
        self.quantizer = _weight_quantizer(quantizer, self, "quantizer", default)

    def quantize(self, mode=None, type_check=True, config=None):
        """Refuse Keras' own post-training quantization (e.g. 'int8'): this layer already fake-quantizes."""
        raise QuantizationError(
            f"{type(self).__name__} '{self.name}' is already quantization-aware (akq); Keras' "
            f"quantize({mode!r}) would replace its quantizer. Use akq.convert() to get integer weights.")

    def quantized_kernels(self) -> dict:
        """{kernel name: (float kernel variable, its quantizer)} for every quantized kernel of the layer."""
        return {"kernel": (self.kernel, self.quantizer)}

    def get_config(self):
        return {**super().get_config(), "quantizer": _serialize(self.quantizer)}


@_register
class QuantizedConv2D(_QuantizedKernelMixin, keras.layers.Conv2D):
    """A Conv2D whose kernel is fake-quantized by `quantizer` (bias stays float).

    Takes the Conv2D arguments plus `quantizer` (a WeightQuantizer, default MaxQuantizer(bitwidth=4)).
    Not supported: data_format other than channels_last, activation, dilation_rate, groups.
    """

    def __init__(self, filters, kernel_size, quantizer=None, **kwargs):
        super().__init__(filters, kernel_size, **kwargs)
        _check_supported(self, ("data_format", "activation", "dilation_rate", "groups"))
        self._set_quantizer(quantizer)

    def call(self, inputs):
        outputs = self.convolution_op(inputs, self.quantizer.quantize(self.kernel))
        if self.use_bias:
            outputs = ops.add(outputs, self.bias)
        return outputs


@_register
class QuantizedDense(_QuantizedKernelMixin, keras.layers.Dense):
    """A Dense layer whose kernel is fake-quantized by `quantizer` (bias stays float).

    Takes the Dense arguments plus `quantizer` (a WeightQuantizer, default MaxQuantizer(bitwidth=4)).
    Not supported: activation.
    """

    def __init__(self, units, quantizer=None, **kwargs):
        super().__init__(units, **kwargs)
        _check_supported(self, ("activation",))
        self._set_quantizer(quantizer)

    def call(self, inputs, training=None):
        outputs = ops.matmul(inputs, self.quantizer.quantize(self.kernel))
        if self.use_bias:
            outputs = ops.add(outputs, self.bias)
        return outputs


@_register
class QuantizedSeparableConv2D(_QuantizedKernelMixin, keras.layers.SeparableConv2D):
    """A SeparableConv2D (depth multiplier 1) with fake-quantized depthwise and pointwise kernels.

    `quantizer` quantizes the pointwise kernel, `quantizer_dw` the depthwise one (default: a copy of
    `quantizer`; Akida needs a per-tensor depthwise quantizer). Bias stays float.
    Not supported: data_format other than channels_last, activation, dilation_rate, depth_multiplier.
    """

    def __init__(self, filters, kernel_size, quantizer=None, quantizer_dw=None, **kwargs):
        super().__init__(filters, kernel_size, **kwargs)
        _check_supported(self, ("data_format", "activation", "dilation_rate", "depth_multiplier"))
        self._set_quantizer(quantizer)
        default_dw = copy.deepcopy(self.quantizer)
        self.quantizer_dw = _weight_quantizer(quantizer_dw, self, "quantizer_dw", default_dw)

    def call(self, inputs):
        depthwise = self.quantizer_dw.quantize(self.depthwise_kernel)
        pointwise = self.quantizer.quantize(self.pointwise_kernel)
        if self.strides[0] == self.strides[1]:
            outputs = ops.separable_conv(inputs, depthwise, pointwise, strides=self.strides, padding=self.padding,
                                         data_format=self.data_format)
        else:  # TensorFlow's depthwise kernel takes equal strides only: stride 1 on the padded input, then subsample
            outputs = ops.conv(_strided_depthwise(inputs, depthwise, self.strides, self.padding), pointwise)
        if self.use_bias:
            outputs = ops.add(outputs, self.bias)
        return outputs

    def quantized_kernels(self) -> dict:
        return {"depthwise_kernel": (self.depthwise_kernel, self.quantizer_dw),
                "pointwise_kernel": (self.pointwise_kernel, self.quantizer)}

    def get_config(self):
        return {**super().get_config(), "quantizer_dw": _serialize(self.quantizer_dw)}


def _strided_depthwise(inputs, kernel, strides, padding):
    """ops.depthwise_conv with any (e.g. unequal) strides: pad as TF 'same' does, convolve at stride 1, subsample."""
    if padding == "same":
        pads = []
        for size, k, s in zip(inputs.shape[1:3], kernel.shape[:2], strides):
            total = max((-(-size // s) - 1) * s + k - size, 0)
            pads.append((total // 2, total - total // 2))
        inputs = ops.pad(inputs, [(0, 0), *pads, (0, 0)])
    outputs = ops.depthwise_conv(inputs, kernel, strides=1, padding="valid")
    return outputs[:, :: strides[0], :: strides[1], :]


@_register
class QuantizedDepthwiseConv2D(_QuantizedKernelMixin, keras.layers.DepthwiseConv2D):
    """A DepthwiseConv2D (depth multiplier 1) whose kernel is fake-quantized by `quantizer`, plus its bias.

    The reference creates the bias but never adds it (so it gets no gradient); akq applies it. This layer
    is not convertible to Akida on its own (use QuantizedSeparableConv2D).
    Not supported: data_format other than channels_last, activation, depth_multiplier.
    """

    def __init__(self, kernel_size, quantizer=None, **kwargs):
        super().__init__(kernel_size, **kwargs)
        _check_supported(self, ("data_format", "activation", "depth_multiplier"))
        self._set_quantizer(quantizer)

    def call(self, inputs):
        outputs = ops.depthwise_conv(
            inputs,
            self.quantizer.quantize(self.kernel),
            strides=self.strides,
            padding=self.padding,
            dilation_rate=self.dilation_rate,
            data_format=self.data_format,
        )
        return outputs + self.bias if self.use_bias else outputs


# -- activations ---------------------------------------------------------------------------------
def ceil_ste(x):
    """Ceiling in the forward pass, identity gradient in the backward pass."""
    return x + ops.stop_gradient(ops.ceil(x) - x)


@_register
class QuantizedActivation(keras.layers.Layer):
    """A ReLU discretized on `2^bitwidth - 1` levels of width `step` (docs/spec A.3).

    `y = step * clip(ceil((x - threshold) / step), 0, 2^bitwidth - 1)` with `threshold = step / 2`,
    all in float32: inputs up to `threshold` give 0, and the output saturates at `levels * step`.
    In training, the ceiling is straight-through and the clip has zero gradient outside its range.

    Parameters
    ----------
    bitwidth : int
        Number of activation bits (> 0).
    step : float
        Width of one activation level (float32, > 0).
    """

    def __init__(self, bitwidth: int = 1, step: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        if not is_integer(bitwidth) or bitwidth <= 0:
            raise QuantizationError(f"{type(self).__name__} '{self.name}': activation 'bitwidth' must be an "
                                    f"integer greater than zero, got {bitwidth!r}. Use 1, 2 or 4 for Akida.")
        self.bitwidth = int(bitwidth)
        self._set_step(step)

    def _set_step(self, step):
        step32 = np.float32(step)
        if not np.isfinite(step32) or step32 <= 0:
            raise QuantizationError(f"{type(self).__name__} '{self.name}': the activation step must be a "
                                    f"finite float32 greater than zero, got {step!r}. "
                                    "Use a positive max value.")
        self._step = step32

    @property
    def levels(self) -> int:
        """Number of non-zero activation levels, 2^bitwidth - 1."""
        return 2 ** self.bitwidth - 1

    @property
    def step(self) -> np.float32:
        return self._step

    @property
    def threshold(self) -> np.float32:
        return self._step / np.float32(2)

    def call(self, inputs):
        levels = ceil_ste((inputs - self.threshold) / self.step)
        return self.step * ops.clip(levels, 0.0, float(self.levels))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "bitwidth": self.bitwidth, "step": float(self.step)}


@_register
class ActivationDiscreteRelu(QuantizedActivation):
    """A quantized ReLU clipped at 6 (or at 2^bitwidth - 1 if lower): step = min(L, 6) / L."""

    def __init__(self, bitwidth: int = 1, **kwargs):
        super().__init__(bitwidth, **kwargs)
        self._set_step(np.float32(min(self.levels, 6)) / np.float32(self.levels))

    def get_config(self):
        config = super().get_config()
        del config["step"]
        return config


@_register
class QuantizedReLU(QuantizedActivation):
    """A quantized ReLU clipped at `max_value` (default 2^bitwidth - 1): step = max_value / L in float32."""

    def __init__(self, bitwidth: int = 1, max_value: float | None = None, **kwargs):
        super().__init__(bitwidth, **kwargs)
        self.max_value = float(self.levels if max_value is None else max_value)
        self._set_step(np.float32(self.max_value) / np.float32(self.levels))

    def get_config(self):
        config = super().get_config()
        del config["step"]
        return {**config, "max_value": self.max_value}
