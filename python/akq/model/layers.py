"""Integer layers with the reference's constructor arguments (docs/spec C.8).

A layer is a thin view over a C++ `LayerSpec`; the construction rules and variable checks live in
the C++ core (csrc/akq/model.cpp), so hand-built, converted and loaded models obey the same rules.
"""

from __future__ import annotations

import numpy as np

from .. import _core
from ..errors import LayerError

LayerType = _core.LayerType
Padding = _core.Padding
PoolType = _core.PoolType

# variable name -> dtype the layer stores it in
_VARIABLE_DTYPES = {"weights": np.int8, "weights_pw": np.int8, "threshold": np.int32, "act_step": np.float32,
                    "threshold_learning": np.int32, "thswap": np.int32}

_INT32 = (-2**31, 2**31 - 1)
_PADDINGS = {"same": Padding.Same, "valid": Padding.Valid}
_POOL_TYPES = {"max": PoolType.Max, "average": PoolType.Average, "none": PoolType.NoPooling}


def _int(value, argument: str) -> int:
    """`value` as an int32 (the C++ layer fields), or LayerError; bools and floats are refused."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise LayerError(f"{argument} must be an int, got {value!r} ({type(value).__name__})")
    if not _INT32[0] <= value <= _INT32[1]:
        raise LayerError(f"{argument}={value} is beyond the int32 range of layer parameters; use a realistic "
                         "size (at most 65536 per axis)")
    return int(value)


def _sequence(value, length: int) -> bool:
    return (isinstance(value, (tuple, list)) or isinstance(value, np.ndarray) and value.ndim == 1) \
        and len(value) == length


def _pair(value, argument: str) -> tuple[int, int]:
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return _int(value, argument), _int(value, argument)
    if _sequence(value, 2):
        return _int(value[0], argument), _int(value[1], argument)
    raise LayerError(f"{argument} must be an int or a pair of ints, got {value!r}")


def _shape(value, argument: str) -> tuple[int, int, int]:
    if _sequence(value, 3):
        return tuple(_int(d, argument) for d in value)
    raise LayerError(f"{argument} must be 3 ints (height, width, channels), got {value!r}; a vector of N "
                     "values has shape (1, 1, N)")


def _choice(enum, names: dict):
    """Converter to an enum member from itself or its name as Keras writes it ("same", "max"...)."""
    def convert(value, argument: str):
        if isinstance(value, enum):
            return value
        if isinstance(value, str) and value.lower() in names:
            return names[value.lower()]
        raise LayerError(f"{argument} must be one of {sorted(names)} or an akq.{enum.__name__}, got {value!r}")
    return convert


def _bool(value, argument: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise LayerError(f"{argument} must be True or False, got {value!r}")
    return bool(value)


def _pool_type(value, argument: str):
    return _choice(PoolType, _POOL_TYPES)(PoolType.NoPooling if value is None else value, argument)


def _name(value) -> str:
    """A layer name: a str that UTF-8 can encode (.akq files store it so); None or "" for automatic."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise LayerError(f"a layer name must be a str, got {value!r} ({type(value).__name__})")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise LayerError(f"layer name {value!r} is not valid Unicode (lone surrogates); use a plain str") from None
    return value


# LayerSpec field -> converter of the constructor argument that sets it
_FIELDS = {"input_dims": _shape, "input_bits": _int, "kernel_size": _pair, "kernel_stride": _pair,
           "pool_size": _pair, "pool_stride": _pair, "filters": _int, "weights_bits": _int, "act_bits": _int,
           "padding_value": _int, "activation": _bool, "padding": _choice(Padding, _PADDINGS),
           "pool_type": _pool_type}


class LayerParameters:
    """Read-only view of a layer's parameters, named as in the reference."""

    def __init__(self, spec):
        self.layer_type = spec.type
        if spec.type in (LayerType.InputData, LayerType.InputConvolutional):
            self.input_shape = tuple(spec.input_dims)
        if spec.type == LayerType.InputData:
            self.input_bits = spec.input_bits
            return
        if spec.type == LayerType.FullyConnected:
            self.units = spec.filters
        else:
            self.filters = spec.filters
            self.kernel_size = tuple(spec.kernel_size)
            self.kernel_stride = tuple(spec.kernel_stride)
            self.padding = spec.padding
            self.pool_type = spec.pool_type
            self.pool_size = tuple(spec.pool_size)
            self.pool_stride = tuple(spec.pool_stride)
        self.weights_bits = spec.weights_bits
        self.activation = spec.activation
        self.act_bits = spec.act_bits
        if spec.type == LayerType.InputConvolutional:
            self.padding_value = spec.padding_value

    def __repr__(self):
        return "LayerParameters(" + ", ".join(f"{k}={v!r}" for k, v in vars(self).items()) + ")"


class Layer:
    """Base of the five integer layer types. Construct one of the subclasses, then `Model.add` it."""

    _type: LayerType
    _ARGUMENTS = {"input_dims": "input_shape"}  # LayerSpec field -> constructor argument, where they differ

    def __init__(self, name: str = "", **parameters):
        """`parameters`: LayerSpec field -> constructor argument, checked here (LayerError naming both)."""
        spec = _core.LayerSpec()
        spec.type = self._type
        try:
            spec.name = _name(name)
            for field, value in parameters.items():
                setattr(spec, field, _FIELDS[field](value, self._ARGUMENTS.get(field, field)))
        except LayerError as error:
            label = f" {name!r}" if isinstance(name, str) and name else ""
            raise LayerError(f"{type(self).__name__}{label}: {error}") from None
        self._spec = spec
        self._model = None
        self.mapping = None  # set by Model.map()

    @property
    def name(self) -> str:
        return self._spec.name

    @property
    def parameters(self) -> LayerParameters:
        return LayerParameters(self._spec)

    @property
    def input_dims(self) -> tuple[int, int, int]:
        return tuple(self._spec.input_dims)

    @property
    def output_dims(self) -> tuple[int, int, int]:
        return tuple(self._spec.output_dims)

    @property
    def variables(self) -> list[str]:
        """Names of the variables this layer holds."""
        if self._type == LayerType.InputData:
            return []
        names = ["weights", "threshold", "act_step"]
        if self._type == LayerType.SeparableConvolutional:
            names.insert(1, "weights_pw")
        if len(self._spec.thswap):  # a last layer compiled for learning (model/learning.py)
            names += ["threshold_learning", "thswap"]
        return names

    def _check_variable_name(self, name: str):
        if not isinstance(name, str) or name not in self.variables:
            raise LayerError(
                f"layer '{self.name}' ({self._type.name}) has no variable '{name}'; it has {self.variables}"
            )
        if self._model is None:
            raise LayerError(f"layer '{self.name}': add it to a Model before reading or setting its variables")

    def get_variable(self, name: str) -> np.ndarray:
        """A copy of variable `name` ('weights', 'weights_pw', 'threshold', 'act_step'; 'threshold_learning'
        and 'thswap' once compiled for learning)."""
        self._check_variable_name(name)
        return getattr(self._spec, name)

    def set_variable(self, name: str, value) -> None:
        """Set variable `name`; the dtype must match exactly and values must fit the layer's bits."""
        self._check_variable_name(name)
        expected = np.dtype(_VARIABLE_DTYPES[name])
        value = np.asarray(value)
        if value.dtype != expected:
            raise LayerError(
                f"layer '{self.name}': variable '{name}' must be {expected.name}, got {value.dtype.name}; "
                f"cast it with .astype(np.{expected.name}) after checking the values fit"
            )
        old = getattr(self._spec, name)
        expected_shape = old.shape
        if value.shape != expected_shape:
            raise LayerError(
                f"layer '{self.name}': variable '{name}' must have shape {expected_shape}, got {value.shape}"
            )
        setattr(self._spec, name, value)
        try:
            _core.check_variables(self._spec)
        except LayerError:
            setattr(self._spec, name, old)
            raise
        self._model._invalidate()

    def _allocate_variables(self):
        """Zero weights and thresholds, unit steps, shaped for the layer's input."""
        if self._type == LayerType.InputData:
            return
        spec = self._spec
        spec.weights = np.zeros(_core.expected_weights_shape(spec), np.int8)
        if self._type == LayerType.SeparableConvolutional:
            spec.weights_pw = np.zeros((1, 1, spec.input_dims[2], spec.filters), np.int8)
        spec.threshold = np.zeros(spec.filters, np.int32)
        spec.act_step = np.ones(spec.filters, np.float32)

    def __repr__(self):
        return f"<{type(self).__name__} '{self.name}' {self.input_dims} -> {self.output_dims}>"


class _ConvolutionLike(Layer):
    def __init__(self, kernel_size, filters, name="", kernel_stride=(1, 1), padding=Padding.Same,
                 pool_size=(-1, -1), pool_type=PoolType.NoPooling, pool_stride=(-1, -1), weights_bits=1,
                 activation=True, act_bits=1, **extra):
        super().__init__(
            name,
            kernel_size=kernel_size,
            filters=filters,
            kernel_stride=kernel_stride,
            padding=padding,
            pool_size=pool_size,
            pool_type=pool_type,
            pool_stride=pool_stride,
            weights_bits=weights_bits,
            activation=activation,
            act_bits=act_bits,
            **extra,
        )


class InputData(Layer):
    """Model input of `input_bits`-bit unsigned integers (the converter uses 4 bits)."""

    _type = LayerType.InputData

    def __init__(self, input_shape, input_bits=4, name=""):
        super().__init__(name, input_dims=input_shape, input_bits=input_bits)


class InputConvolutional(_ConvolutionLike):
    """First layer on 8-bit pixels: a cross-correlation (unflipped weights), padded with padding_value."""

    _type = LayerType.InputConvolutional

    def __init__(self, input_shape, kernel_size, filters, name="", kernel_stride=(1, 1), padding=Padding.Same,
                 pool_size=(-1, -1), pool_type=PoolType.NoPooling, pool_stride=(-1, -1), weights_bits=1,
                 activation=True, act_bits=1, padding_value=0):
        super().__init__(kernel_size, filters, name, kernel_stride, padding, pool_size, pool_type, pool_stride,
                         weights_bits, activation, act_bits,
                         input_dims=input_shape, padding_value=padding_value)


class Convolutional(_ConvolutionLike):
    """A true convolution (the converter flips Keras kernels) with optional pooling and activation."""

    _type = LayerType.Convolutional


class SeparableConvolutional(_ConvolutionLike):
    """Depthwise then pointwise convolution, summed exactly without intermediate rounding."""

    _type = LayerType.SeparableConvolutional

    def __init__(self, kernel_size, filters, name="", kernel_stride=(1, 1), padding=Padding.Same,
                 pool_size=(-1, -1), pool_type=PoolType.NoPooling, pool_stride=(-1, -1), weights_bits=2,
                 activation=True, act_bits=1):
        super().__init__(kernel_size, filters, name, kernel_stride, padding, pool_size, pool_type, pool_stride,
                         weights_bits, activation, act_bits)


class FullyConnected(Layer):
    """Dense layer over the input flattened with axis 0 fastest; potentials saturate to 20 bits."""

    _type = LayerType.FullyConnected
    _ARGUMENTS = {"filters": "units"}

    def __init__(self, units, name="", weights_bits=1, activation=True, act_bits=1):
        super().__init__(name, filters=units, weights_bits=weights_bits, activation=activation, act_bits=act_bits)


_CLASSES = {cls._type: cls for cls in (InputData, InputConvolutional, Convolutional, SeparableConvolutional,
                                        FullyConnected)}


def layer_from_spec(spec) -> Layer:
    """Wrap a complete LayerSpec (from the converter or a .akq file) in its layer class."""
    layer = _CLASSES[spec.type].__new__(_CLASSES[spec.type])
    layer._spec = spec
    layer._model = None
    layer.mapping = None
    return layer
