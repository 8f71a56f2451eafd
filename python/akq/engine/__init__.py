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
from .file_format import load_model
from .model import Model

__all__ = [
    "Convolutional", "FullyConnected", "InputConvolutional", "InputData", "Layer", "LayerType", "Model",
    "Padding", "PoolType", "SeparableConvolutional", "load_model",
]
