"""The integer spiking model: layers, Model, running it on the C++ engine, .akq files. No TensorFlow here."""

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
from .model import Model, load_model

__all__ = [
    "Convolutional", "FullyConnected", "InputConvolutional", "InputData", "Layer", "LayerType", "Model",
    "Padding", "PoolType", "SeparableConvolutional", "load_model",
]
