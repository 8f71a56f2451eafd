"""Readers for tests/golden (the reference's golden cases, copied unchanged) as Keras and akq models.

`keras_model(case)` rebuilds the quantized Keras model from model.json and the float weights;
`akida_model(case)` builds the reference's converted model by hand from akida.json and its variables,
independently of akq's converter.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

import numpy as np

GOLDEN_DIR = Path(__file__).parent / "golden"
CASE_NAMES = sorted(p.name for p in GOLDEN_DIR.glob("case_*"))


class Case:
    """One golden case: model.json, akida.json, keras_weights.npz and data.npz."""

    def __init__(self, name: str):
        self.name = name
        self.dir = GOLDEN_DIR / name
        self.model_json = json.loads((self.dir / "model.json").read_text())
        self.akida_json = json.loads((self.dir / "akida.json").read_text())

    @cached_property
    def data(self) -> dict[str, np.ndarray]:
        with np.load(self.dir / "data.npz") as npz:
            return {key: npz[key] for key in npz.files}

    @cached_property
    def keras_weights(self) -> dict[str, np.ndarray]:
        with np.load(self.dir / "keras_weights.npz") as npz:
            return {key: npz[key] for key in npz.files}

    @property
    def input_scaling(self):
        scaling = self.model_json["input_scaling"]
        return None if scaling is None else tuple(scaling)

    @property
    def akida_layers(self) -> list[dict]:
        return self.akida_json["layers"]

    def variables(self, index: int) -> dict[str, np.ndarray]:
        """The reference's converted variables of akida layer `index` (empty for InputData)."""
        prefix = f"ak/{index}/"
        return {k[len(prefix):]: v for k, v in self.data.items() if k.startswith(prefix)}

    def __repr__(self):
        return self.name


def all_cases() -> list[Case]:
    return [Case(name) for name in CASE_NAMES]


# -- Keras side ------------------------------------------------------------------------------------
def _quantizer(desc: dict):
    from akq import quantization_ops as qops

    cls = getattr(qops, desc["class"])
    kwargs = {"bitwidth": desc["bitwidth"]}
    if "threshold" in desc:
        kwargs["threshold"] = desc["threshold"]
    return cls(**kwargs)


def _keras_layer(desc: dict):
    import keras

    from akq import quantization_layers as ql

    cls, name = desc["class"], desc["name"]
    conv = dict(strides=tuple(desc.get("strides", (1, 1))), padding=desc.get("padding"),
                use_bias=desc.get("use_bias"), name=name)
    if cls == "QuantizedConv2D":
        return ql.QuantizedConv2D(desc["filters"], tuple(desc["kernel_size"]), quantizer=_quantizer(desc["quantizer"]),
                                  **conv)
    if cls == "QuantizedSeparableConv2D":
        return ql.QuantizedSeparableConv2D(desc["filters"], tuple(desc["kernel_size"]),
                                           quantizer=_quantizer(desc["quantizer"]),
                                           quantizer_dw=_quantizer(desc["quantizer_dw"]), **conv)
    if cls == "QuantizedDense":
        return ql.QuantizedDense(desc["units"], quantizer=_quantizer(desc["quantizer"]), use_bias=desc["use_bias"],
                                 name=name)
    if cls == "QuantizedReLU":
        return ql.QuantizedReLU(bitwidth=desc["bitwidth"], max_value=desc["max_value"], name=name)
    if cls == "ActivationDiscreteRelu":
        return ql.ActivationDiscreteRelu(bitwidth=desc["bitwidth"], name=name)
    if cls == "BatchNormalization":
        return keras.layers.BatchNormalization(epsilon=desc["epsilon"], name=name)
    if cls == "MaxPool2D":
        return keras.layers.MaxPool2D(tuple(desc["pool_size"]), tuple(desc["strides"]), desc["padding"], name=name)
    if cls == "Rescaling":
        return keras.layers.Rescaling(desc["scale"], desc["offset"], name=name)
    if cls == "Dropout":
        return keras.layers.Dropout(desc["rate"], name=name)
    if cls == "Reshape":
        return keras.layers.Reshape(tuple(desc["target_shape"]), name=name)
    simple = {"GlobalAveragePooling2D": keras.layers.GlobalAveragePooling2D, "Flatten": keras.layers.Flatten,
              "Softmax": keras.layers.Softmax}
    return simple[cls](name=name)


def keras_model(case: Case):
    """The case's quantized Keras model built with akq layers and its float weights."""
    import keras

    layers = [_keras_layer(desc) for desc in case.model_json["layers"]]
    model = keras.Sequential([keras.Input(tuple(case.model_json["input_shape"])), *layers],
                             name=f"golden_{case.name}")
    for desc, layer in zip(case.model_json["layers"], layers):
        if "weights" in desc:
            layer.set_weights([case.keras_weights[key] for key in desc["weights"]])
    return model


# -- akida side ------------------------------------------------------------------------------------
def akida_layer(desc: dict):
    """An akq layer with the parameters of one akida.json layer entry."""
    import akq

    kind = desc["type"]
    if kind == "InputData":
        return akq.InputData(tuple(desc["input_shape"]), input_bits=desc["input_bits"], name=desc["name"])
    if kind == "FullyConnected":
        return akq.FullyConnected(desc["units"], name=desc["name"], weights_bits=desc["weights_bits"],
                                  activation=desc["activation"], act_bits=desc["act_bits"])
    pool = {"none": akq.PoolType.NoPooling, "max": akq.PoolType.Max, "average": akq.PoolType.Average}
    kwargs = dict(
        name=desc["name"],
        kernel_stride=tuple(desc["stride"]),
        padding=akq.Padding.Same if desc["padding"] == "same" else akq.Padding.Valid,
        pool_type=pool[desc["pool_type"]],
        pool_size=tuple(desc.get("pool_size", (-1, -1))),
        pool_stride=tuple(desc.get("pool_stride", (-1, -1))),
        weights_bits=desc["weights_bits"],
        activation=desc["activation"],
        act_bits=desc["act_bits"],
    )
    if kind == "InputConvolutional":
        return akq.InputConvolutional(tuple(desc["input_shape"]), tuple(desc["kernel_size"]), desc["filters"],
                                      padding_value=desc["padding_value"], **kwargs)
    cls = {"Convolutional": akq.Convolutional, "SeparableConvolutional": akq.SeparableConvolutional}[kind]
    return cls(tuple(desc["kernel_size"]), desc["filters"], **kwargs)


def akida_model(case: Case, upto: int | None = None):
    """The reference's converted model (layers 0..upto), built by hand with its variables."""
    import akq

    model = akq.Model()
    descs = case.akida_layers if upto is None else case.akida_layers[: upto + 1]
    for index, desc in enumerate(descs):
        model.add(akida_layer(desc))
        for name, value in case.variables(index).items():
            model.layers[index].set_variable(name, value)
    return model


def runtime_model(case: Case):
    """The reference's converted model built in BrainChip's akida runtime from akida.json and its variables
    (akida's public layer classes, independently of akq)."""
    import akida

    model = akida.Model()
    for index, desc in enumerate(case.akida_layers):
        kind, common = desc["type"], {"name": desc["name"]}
        if kind == "InputData":
            layer = akida.InputData(input_shape=tuple(desc["input_shape"]), input_bits=desc["input_bits"], **common)
        else:
            common |= {"weights_bits": desc["weights_bits"], "activation": desc["activation"],
                       "act_bits": desc["act_bits"]}
            if kind == "FullyConnected":
                layer = akida.FullyConnected(units=desc["units"], **common)
            else:
                pool = {"none": akida.PoolType.NoPooling, "max": akida.PoolType.Max, "average": akida.PoolType.Average}
                common |= {"kernel_size": tuple(desc["kernel_size"]), "filters": desc["filters"],
                           "kernel_stride": tuple(desc["stride"]), "pool_type": pool[desc["pool_type"]],
                           "padding": akida.Padding.Same if desc["padding"] == "same" else akida.Padding.Valid,
                           "pool_size": tuple(desc.get("pool_size", (-1, -1))),
                           "pool_stride": tuple(desc.get("pool_stride", (-1, -1)))}
                if kind == "InputConvolutional":
                    common |= {"input_shape": tuple(desc["input_shape"]), "padding_value": desc["padding_value"]}
                layer = getattr(akida, kind)(**common)
        model.add(layer)
        for name, value in case.variables(index).items():
            model.layers[index].set_variable(name, value)
    return model
