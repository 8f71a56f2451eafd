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


# -- conversion (akq.convert / akq.check_model_compatibility) -------------------------------------
class ModelStructureError(ConversionError):
    """The model is not one linear chain with one 1-D or 3-D input (branches, merges, data format)."""


class UnsupportedLayerError(ConversionError):
    """A layer type conversion cannot turn into integer layers (e.g. DepthwiseConv2D, Add, a float Conv2D)."""


class LayerOrderError(ConversionError):
    """Layers in an order the integer layers cannot express (e.g. two neural layers without activation)."""


class BatchNormError(ConversionError):
    """A BatchNormalization that cannot be folded (wrong axis, null or, where it matters, negative gammas)."""


class FirstLayerError(ConversionError, TypeError):
    """An image model (1 or 3 input channels) whose first layer is not a QuantizedConv2D."""


class InputScalingError(AkqError, ValueError):
    """An `input_scaling` argument that is invalid or conflicts with a Rescaling layer."""


class ActStepError(QuantizationError):
    """A converted activation step below the engine's 1/16 resolution."""


class MissingDependencyError(AkqError, ImportError):
    """An optional dependency is not installed; the message names the akq extra that installs it."""


# -- the akida runtime (Model.to_akida, akq.from_akida) and legacy cnn2snn files ------------------
class AkidaNotInstalledError(MissingDependencyError):
    """The optional akida runtime is needed but not installed (pip install 'akq[akida]')."""


class AkidaCompatibilityError(AkqError, ValueError):
    """A layer one side has that the other cannot express (e.g. an Akida 2.0 layer, signed inputs)."""


class NotAnAkidaModelError(AkqError, TypeError):
    """An object given where an akida.Model (or a .fbz path) is expected."""


class LegacyModelError(ModelFileError):
    """An .h5 file that is not a Keras model saved by legacy cnn2snn, or one akq cannot rebuild."""


class UnknownLegacyLayerError(LegacyModelError):
    """A layer class in a legacy .h5 file that neither akq nor Keras 3 knows."""


class WeightsMismatchError(AkqError, ValueError):
    """load_partial_weights found two layers with the same name but weights of different shapes."""


# -- akq.sweep ------------------------------------------------------------------------------------
class SweepError(AkqError, ValueError):
    """A sweep setting, result file or trial that `akq.sweep` cannot use or complete."""
