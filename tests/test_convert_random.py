"""Random layer sequences: conversion either gives a model or raises a typed akq error (never another
exception), and check_model_compatibility says True exactly when convert succeeds."""

import akq
import numpy as np
import pytest

keras = pytest.importorskip("keras")
ql = akq.quantization_layers
qops = akq.quantization_ops
L = keras.layers


def _random_layer(rng, name, kind=None):
    bits = int(rng.choice([2, 3, 4, 8]))
    quantizer = rng.choice([qops.MaxQuantizer, qops.MaxPerAxisQuantizer, qops.StdPerAxisQuantizer])(bitwidth=bits)
    padding = str(rng.choice(["same", "valid"]))
    kernel = int(rng.choice([1, 2, 3]))
    choices = {
        "conv": lambda: ql.QuantizedConv2D(int(rng.integers(1, 6)), kernel, padding=padding, quantizer=quantizer,
                                           strides=int(rng.choice([1, 2])), name=name),
        "sep": lambda: ql.QuantizedSeparableConv2D(int(rng.integers(1, 6)), kernel, padding=padding,
                                                   quantizer=quantizer, name=name),
        "dense": lambda: ql.QuantizedDense(int(rng.integers(1, 6)), quantizer=quantizer, name=name),
        "qrelu": lambda: ql.QuantizedReLU(bitwidth=int(rng.choice([1, 2, 3, 4])), max_value=float(rng.uniform(1, 6)),
                                          name=name),
        "relu": lambda: L.ReLU(name=name),
        "maxpool": lambda: L.MaxPool2D(2, padding=padding, name=name),
        "gap": lambda: L.GlobalAveragePooling2D(name=name),
        "bn": lambda: L.BatchNormalization(name=name),
        "flatten": lambda: L.Flatten(name=name),
        "dropout": lambda: L.Dropout(0.2, name=name),
        "softmax": lambda: L.Softmax(name=name),
    }
    return choices[kind or str(rng.choice(list(choices)))]()


def _structured_names(rng, flat: bool):
    """Mostly-convertible layer kinds: blocks of neural [pool] [bn] activation, sometimes broken."""
    kinds = []
    for block in range(int(rng.integers(1, 4))):
        spatial = not flat and block < 2
        kinds.append(str(rng.choice(["conv", "sep"])) if spatial and block else "conv" if spatial else "dense")
        if spatial and rng.random() < 0.4:
            kinds.append(str(rng.choice(["maxpool", "gap"])))
            spatial = kinds[-1] == "maxpool"
        if rng.random() < 0.5:
            kinds.append("bn")
        kinds.append("qrelu")
        if rng.random() < 0.2:
            kinds.append("dropout")
        if not spatial or block == 1:
            flat = True
            if kinds[-1] != "gap":
                kinds.append("flatten")
    if rng.random() < 0.3:
        kinds.append("softmax")
    return kinds


def _random_model(seed):
    rng = np.random.default_rng(seed)
    shape = [(9, 9, 1), (9, 9, 3), (7, 7, 4), (12,)][seed % 4]
    structured = _structured_names(rng, len(shape) == 1) if seed % 3 else None
    tensor = keras.Input(shape)
    layers = []
    for i in range(len(structured) if structured else int(rng.integers(2, 8))):
        layer = _random_layer(rng, f"l{i}", structured[i] if structured else None)
        try:
            tensor = layer(tensor)
        except ValueError:  # Keras refuses the shape (e.g. a pool on a 1-D tensor): leave the layer out
            continue
        layers.append(layer)
    model = keras.Sequential([keras.Input(shape), *layers], name=f"random_{seed}")
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            c = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(-1, 2, c), rng.normal(0, 1, c), rng.normal(0, 1, c), rng.uniform(0, 2, c)])
    return model


@pytest.mark.parametrize("seed", range(60))
def test_random_model_converts_or_raises_a_typed_error(seed, capsys):
    model = _random_model(seed)
    try:
        converted = akq.convert(model, input_scaling=(255, 0))
    except akq.AkqError as error:
        assert str(error)
        converted = None
    else:
        assert isinstance(converted, akq.Model)
    assert akq.check_model_compatibility(model, input_scaling=(255, 0)) is (converted is not None)
    printed = capsys.readouterr().out
    assert (printed == "") is (converted is not None)
