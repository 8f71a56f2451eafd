"""The akq error hierarchy. Every message names the layer, the rule broken and what to do about it.

Each class also derives from the built-in exception the reference raised in the same situation
(ValueError or RuntimeError), so code written against cnn2snn keeps catching it.
"""


class AkqError(Exception):
    """Root of every error akq raises on purpose."""


class ConversionError(AkqError, RuntimeError):
    """A Keras model cannot be converted to an integer akq model (structure, layer types, order)."""


class QuantizationError(AkqError, ValueError):
    """A quantizer, bitwidth or quantized value that conversion or the chip cannot take."""


class LayerError(AkqError, ValueError):
    """Invalid parameters or variables of an integer layer (hand-built or loaded models)."""


class InputError(AkqError, ValueError):
    """An input array of the wrong dtype, shape or value range."""


class EngineError(AkqError, RuntimeError):
    """A model the engine cannot run as asked (e.g. predict on a model ending with an activation)."""


class ModelFileError(AkqError, ValueError):
    """A .akq file or byte string that is truncated, corrupted or of an unknown version."""


class HardwareError(AkqError, RuntimeError):
    """A layer or value that does not fit the AKD1000 (mapping and programming limits)."""
