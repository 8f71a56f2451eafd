"""akida's Model surface on akq.Model, so akida runtime scripts run with only their import changed.

`Model.to_dict()` / `to_json()` write akida 2.4.0's own model dictionary ("Akida version", "IP version",
"layers" with akida's parameter names and variables), so `akida.Model.from_dict(akq_model.to_dict())`
and `akq.Model.from_dict(akida_model.to_dict())` both work. `summary_text` lays the summary out as akida
does; `Metrics` gives the board's inference metrics, estimated by the device model (akq.Performance).
"""

from __future__ import annotations

import enum
import json

import numpy as np

from .. import _core
from ..errors import EngineError, LayerError
from .layers import _VARIABLE_DTYPES, layer_from_spec

AKIDA_FORMAT = "2.4.0"  # the akida release whose model dictionary this module reads and writes

LayerType = _core.LayerType
_PADDING = {_core.Padding.Valid: 0, _core.Padding.Same: 1}
_POOL = {_core.PoolType.NoPooling: 0, _core.PoolType.Max: 1, _core.PoolType.Average: 2}


class IpVersion(enum.Enum):
    """`model.ip_version`: the Akida IP generation (models of this flow are all v1, the AKD1000's)."""

    v1 = "v1"

    def __str__(self):
        return f"IpVersion.{self.name}"


# -- the model dictionary --------------------------------------------------------------------------
def _bitwidth(values: np.ndarray) -> int:
    """Signed bits the integers need, at least 2 (akida's `bitwidth` of a variable; 0 for floats)."""
    if values.dtype.kind == "f":
        return 0
    if values.size == 0:
        return 2
    high, low = int(values.max()), int(values.min())
    return max(2, high.bit_length() + 1, (-low - 1).bit_length() + 1)


def _parameters(spec) -> dict:
    t = spec.type
    p: dict = {}
    if t in (LayerType.InputData, LayerType.InputConvolutional):
        p.update(input_channels=spec.input_dims[2], input_height=spec.input_dims[1], input_width=spec.input_dims[0])
    if t == LayerType.InputData:
        p.update(input_bits=spec.input_bits, input_signed=0)
    elif t == LayerType.FullyConnected:
        p.update(act_bits=spec.act_bits, activation=int(spec.activation), units=spec.filters,
                 weights_bits=spec.weights_bits)
    else:
        pool_stride = spec.pool_stride
        if spec.pool_type == _core.PoolType.Max:  # akida stores the effective stride (the size by default)
            pool_stride = [r if r > 0 else size for r, size in zip(spec.pool_stride, spec.pool_size)]
        p.update(act_bits=spec.act_bits, activation=int(spec.activation), filters=spec.filters,
                 kernel_height=spec.kernel_size[1], kernel_width=spec.kernel_size[0], padding=_PADDING[spec.padding],
                 pool_type=_POOL[spec.pool_type], pooling_height=spec.pool_size[1],
                 pooling_stride_x=pool_stride[0], pooling_stride_y=pool_stride[1],
                 pooling_width=spec.pool_size[0], stride_x=spec.kernel_stride[0], stride_y=spec.kernel_stride[1],
                 weights_bits=spec.weights_bits)
        if t == LayerType.InputConvolutional:
            p["padding_value"] = spec.padding_value
    p = dict(sorted(p.items()))
    p["layer_type"] = t.name
    return p


def _variable(values) -> dict:
    values = np.asarray(values)
    return {"shape": tuple(values.shape), "dtype": str(values.dtype), "bitwidth": _bitwidth(values),
            "data": values.tolist()}


def model_to_dict(model) -> dict:
    """akida 2.4.0's dictionary of `model` (see `akida.Model.to_dict`)."""
    layers = []
    for i, layer in enumerate(model.layers):
        names = layer.variables
        layers.append({"name": layer.name, "parameters": _parameters(layer._spec),
                       "variables": {n: _variable(layer.get_variable(n)) for n in sorted(names)},
                       "inbounds": [model.layers[i - 1].name] if i else [],
                       "input_shape": list(layer.input_dims), "output_shape": list(layer.output_dims)})
    return {"Akida version": AKIDA_FORMAT, "IP version": IpVersion.v1.value, "layers": layers, "learning": None,
            "input_shape": list(model.input_shape), "output_shape": list(model.output_shape)}


def layer_from_parameters(name: str, p):
    """The akq layer (no variables yet) of akida layer parameters `p`, named as akida names them: a model
    dictionary's "parameters" entry, or the same keys read from a live akida layer."""
    from . import layers as L

    kind = p.get("layer_type")
    shape = (p.get("input_width"), p.get("input_height"), p.get("input_channels"))
    if kind == "InputData":
        if p.get("input_signed", 0):
            raise LayerError(f"layer '{name}': signed inputs (input_signed=1) are not an Akida 1.0 feature")
        return L.InputData(shape, input_bits=p["input_bits"], name=name)
    if kind == "FullyConnected":
        return L.FullyConnected(p["units"], name=name, weights_bits=p["weights_bits"],
                                activation=bool(p["activation"]), act_bits=p["act_bits"])
    classes = {"InputConvolutional": L.InputConvolutional, "Convolutional": L.Convolutional,
               "SeparableConvolutional": L.SeparableConvolutional}
    if kind not in classes:
        raise LayerError(f"layer '{name}': layer_type {kind!r} is not an Akida 1.0 layer "
                         f"(expected InputData, {', '.join(classes)} or FullyConnected)")
    padding = {v: k for k, v in _PADDING.items()}[p["padding"]]
    pool = {v: k for k, v in _POOL.items()}[p["pool_type"]]
    kwargs = dict(name=name, kernel_stride=(p["stride_x"], p["stride_y"]), padding=padding,
                  pool_size=(p["pooling_width"], p["pooling_height"]), pool_type=pool,
                  pool_stride=(p["pooling_stride_x"], p["pooling_stride_y"]), weights_bits=p["weights_bits"],
                  activation=bool(p["activation"]), act_bits=p["act_bits"])
    kernel = (p["kernel_width"], p["kernel_height"])
    if kind == "InputConvolutional":
        return L.InputConvolutional(shape, kernel, p["filters"], padding_value=p["padding_value"], **kwargs)
    return classes[kind](kernel, p["filters"], **kwargs)


def add_from_dict(model, data: dict) -> None:
    """Add to the empty `model` the layers of an akida 2.4.0 model dictionary (LayerError if it is not an
    Akida 1.0 model)."""
    if not isinstance(data, dict) or "layers" not in data:
        raise LayerError("from_dict expects an akida model dictionary with a 'layers' list")
    if data.get("Akida version") != AKIDA_FORMAT:
        raise LayerError(f"the dictionary was written by akida {data.get('Akida version')!r}; akq reads the format "
                         f"of akida {AKIDA_FORMAT}")
    if data.get("IP version", "v1") != "v1":
        raise LayerError(f"IP version {data['IP version']!r} is not Akida 1.0 (v1)")
    for entry in data["layers"]:
        model.add(layer_from_parameters(entry["name"], entry["parameters"]))
        layer = model.layers[-1]
        for name, variable in entry.get("variables", {}).items():
            layer.set_variable(name, np.asarray(variable["data"], _VARIABLE_DTYPES.get(name, np.float32)))


_SPEC_FIELDS = ("name", "type", "input_dims", "kernel_size", "kernel_stride", "filters", "padding", "pool_type",
                "pool_size", "pool_stride", "weights_bits", "activation", "act_bits", "input_bits", "padding_value")


def add_layers(model, layers) -> None:
    """Append `layers` (akida's `Model(layers=[...])`): copies, with their variables, of those in another
    model, then an InputData first if they do not start with an input layer, shaped like its input."""
    from .layers import InputData

    layers = list(layers)
    if layers and layers[0]._model is not None and \
            layers[0]._type not in (LayerType.InputData, LayerType.InputConvolutional):
        first = layers[0]
        source = first._model.layers
        previous = source[next(i for i, other in enumerate(source) if other is first) - 1]._spec
        bits = previous.input_bits if previous.type == LayerType.InputData else previous.act_bits
        model.add(InputData(first.input_dims, input_bits=bits, name=f"{first.name}_input"))
    for layer in layers:
        if layer._model is None:
            model.add(layer)
            continue
        spec = _core.LayerSpec()
        for field in _SPEC_FIELDS:
            setattr(spec, field, getattr(layer._spec, field))
        copy = layer_from_spec(spec)
        model.add(copy)
        for name in layer.variables:
            copy.set_variable(name, layer.get_variable(name))


def model_to_json(model) -> str:
    return json.dumps(model_to_dict(model), indent=2)


def dict_from_json(text: str) -> dict:
    """The model dictionary of akida's `to_json` text."""
    try:
        return json.loads(text)
    except (TypeError, ValueError) as error:  # ValueError: JSONDecodeError, or bytes that are not UTF-8
        raise LayerError(f"from_json expects the JSON text of an akida model: {error}") from None


# -- summary ---------------------------------------------------------------------------------------
_SHORT_TYPE = {LayerType.InputConvolutional: "InputConv.", LayerType.Convolutional: "Conv.",
               LayerType.SeparableConvolutional: "Sep.Conv.", LayerType.FullyConnected: "Fully."}


def _table(rows: list[list[str]]) -> tuple[list[str], int]:
    """Rows with every column padded to its widest cell, two spaces apart; and the table's line width."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows], sum(widths) + 2 * len(widths)


def summary_text(model) -> str:
    """The summary akida prints: the model table, then every sequence's layers (all software if unmapped)."""
    from ..device.mapping import np_count

    mapped = model.sequences is not None
    layers = [layer for layer in model.layers if layer._type != LayerType.InputData]
    if mapped:
        groups = [(s.name + (" (Hardware) - size: " + f"{s.program_size} bytes" if s.program_size is not None
                             else " (Software)"), s.layers) for s in model.sequences]
    else:
        groups = [(f"SW/{layers[0].name}" + (f"-{layers[-1].name}" if len(layers) > 1 else "") + " (Software)",
                   layers)] if layers else []
    head = [["Input shape", "Output shape", "Sequences", "Layers"] + (["NPs"] if mapped else []),
            [str(list(model.input_shape)), str(list(model.output_shape)), str(len(groups)), str(len(model.layers))]
            + ([str(np_count(model))] if mapped else [])]
    (header, values), width = _table(head)
    lines = ["Model Summary".center(width), "_" * width, header, "=" * width, values, "_" * width, ""]
    rows = [["Layer (type)", "Output shape", "Kernel shape"] + (["NPs"] if mapped else [])]
    spans = []
    for _, members in groups:
        start = len(rows)
        for layer in members:
            nps = "N/A"
            if layer.mapping is not None and layer._type != LayerType.InputConvolutional:
                nps = str(len(layer.mapping.nps))
            rows.append([f"{layer.name} ({_SHORT_TYPE[layer._type]})", str(list(layer.output_dims)),
                         str(tuple(layer._spec.weights.shape))] + ([nps] if mapped else []))
            if layer._type == LayerType.SeparableConvolutional:
                rows.append(["", "", str(tuple(layer._spec.weights_pw.shape))] + ([""] if mapped else []))
        spans.append((start, len(rows)))
    text_rows, width = _table(rows)
    lines += ["_" * width, text_rows[0]]
    for (title, _), (start, end) in zip(groups, spans):
        lines += ["", f" {title} ".center(width, "="), ""]
        for i in range(start, end):
            lines.append(text_rows[i])
            if i + 1 < end:
                lines.append("_" * width)
    if groups:
        lines.append("_" * width)
    return "\n".join(lines) + "\n"


# -- metrics ---------------------------------------------------------------------------------------
class Metrics:
    """`model.metrics`: the board's metrics of the last inference, estimated by the device model.

    `names` lists what is known: `inference_frames` after any inference; once the model is mapped,
    `inference_clk` (chip clocks for those frames, streamed) and `fps` (frames/s at the chip clock),
    from akq.Performance with the events the engine counted. Index by name: `metrics["inference_clk"]`.
    """

    def __init__(self, values: dict):
        self._values = dict(values)

    @property
    def names(self) -> list[str]:
        return list(self._values)

    def __getitem__(self, name):
        if name not in self._values:
            raise KeyError(f"no metric {name!r}; this model has {self.names}")
        return self._values[name]

    def __repr__(self):
        return "<akq.Metrics " + ", ".join(f"{k}={v}" for k, v in self._values.items()) + ">"


def metrics(model) -> Metrics:
    """The Metrics of `model`'s last forward/predict/evaluate (empty before any)."""
    from ..device.performance import Performance

    try:
        frames = model.statistics.layers[0].samples
    except EngineError:  # no inference since the last change
        return Metrics({})
    values = {"inference_frames": frames}
    if model.sequences is not None:
        performance = Performance(model)
        values["inference_clk"] = int(round(performance.clocks(frames)))
        values["fps"] = performance.frames_per_s
    return Metrics(values)
