"""The Python face of the C++ engine: layers, Model, files and devices. No TensorFlow here."""

from .layers import (
    Convolutional,
    FullyConnected,
    InputConvolutional,
    InputData,
    Layer,
    LayerType,
    Padding,
    PoolType,
    SeparableConvolutional,
)
from .device import AKD1000, check_hardware
from .file_format import load_model
from .model import Model
from .performance import Performance

__all__ = [
    "AKD1000", "Performance", "check_hardware",
    "Convolutional", "FullyConnected", "InputConvolutional", "InputData", "Layer", "LayerType", "Model",
    "Padding", "PoolType", "SeparableConvolutional", "load_model",
]
