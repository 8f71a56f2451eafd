"""Random models mapped with hw_only=True by akq and by akida 2.4.0, for the differential mapping test
(tests/test_device_differential.py) and the long offline run (bench/device_differential.py).

A model is a list of layer descriptions (plain dicts, JSON-friendly). `akq_outcome` maps it with akq's public
API (layers stay below 24 M weights); `AkidaWorker` maps it with akida's public API in a child
process, since the reference mapper hangs on some wide inputs. An outcome is either
{"refused": [layer, rule]} or {"sequences": [[name, backend, [[layers...]...]]...], "nps": {layer:
[[type, filters]...]}}; `rule` is a short code from RULES, so akq's own wording can differ.
"""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys

# rule code -> (a fragment of the reference's message, a fragment of akq's message)
RULES = {
    "too_big": ("Filter size is too big", "Filter size is too big"),
    "not_enough_nps": ("not enough NPs", "not enough NPs"),
    "one_sequence": ("Model cannot be mapped in one hardware sequence", "Model cannot be mapped in one hardware"),
    "one_channel": ("one input channel", "one input channel"),
    "gap_width": ("With average pooling, input width", "With average pooling, input width"),
    "gap_rows": ("the output of the convolution must have at least", "the output of the convolution must have at"),
    "gap_split": ("spatial split is impossible", "spatial split is impossible"),
    "stride_pool": ("stride > 1 and max pooling", "stride 2 with max pooling"),
    "pool_last": ("cannot be the last layer", "cannot be the last layer"),
    "pool_next": ("must be followed by another", "must be followed by another"),
    "padding": ("Only padding same", "Only padding same"),
    "kernel": ("Kernel size must be", "Kernel size must be"),
    "kernel_square": ("Kernel width and height", "Kernel width and height"),
    "stride": ("Convolution stride must be", "Convolution stride must be"),
    "stride2_kernel": ("stride 2 is only supported", "stride 2 is only supported"),
    "pool_input": ("Pooling size cannot be greater than input", "Pooling size cannot be greater than input"),
    "pool_stride_split": ("pooling size > pooling stride", "pooling size > pooling stride"),
    "pool_size": ("Pooling size", "Pooling size"),
    "strides_equal": ("Horizontal and vertical strides", "Horizontal and vertical strides"),
    "max_width": ("maximum input width", "maximum input width"),
    "max_height": ("maximum input height", "maximum input height"),
    "max_channels": ("maximum input channel", "maximum input channel"),
    "max_filters": ("maximum number of filters", "maximum number of filters"),
    "pool_square": ("Pooling width and height", "Pooling width and height"),
    "pool_stride": ("Pooling stride", "Pooling stride"),
    "weights_bits": ("weights bitwidth must be", "weights bitwidth must be"),
    "fc_weights_bits": ("Weight bits should be", "Weight bits should be"),
    "fc_inputs": ("too large to fit in a FNP", "too large to fit in a FNP"),
    "input_channels": ("input_channels must be", "input_channels must be"),
    "hrc_kernel": ("kernel size should be", "kernel size should be"),
    "hrc_stride": ("stride should be", "stride should be"),
    "hrc_average": ("pool_type cannot be Average", "pool_type cannot be Average"),
    "hrc_pool_y": ("pooling_y should be", "pooling_y should be"),
    "hrc_pool_x": ("pooling_x should be", "pooling_x should be"),
    "hrc_pool_stride": ("pool_size and pool_stride", "pool_size and pool_stride"),
    "hrc_activation": ("activations are enabled", "activations are enabled"),
    "hrc_dim0_kernel": ("smaller than kernel size", "smaller than kernel size"),
    "hrc_dim0": ("input first dimension", "input first dimension"),
    "hrc_valid_dim1": ("With valid padding, a", "With valid padding, a"),
    "hrc_pool_dim1": ("output second dimension size must be at least 2", "output second dimension size must be at"),
    "hrc_dim1_small": ("second dimension size cannot be smaller", "second dimension size cannot be smaller"),
    "hrc_dim1_big": ("second dimension size cannot be higher", "second dimension size cannot be higher"),
    "neurons": ("num_neurons should be set", "num_neurons should be set"),
}


def rule_code(message: str, side: int) -> str:
    """The RULES code of a refusal message (side 0: the reference's, 1: akq's)."""
    for code, fragments in RULES.items():
        if fragments[side] in message:
            return code
    return "other: " + message.split(": ", 1)[-1][:120]


def refusal(layer: str, message: str, side: int) -> dict:
    """The outcome of a refusal; a whole-model refusal names no layer (akq names the last one, akida none)."""
    code = rule_code(message, side)
    return {"refused": ["" if code == "one_sequence" else layer, code], "message": message}


# -- the generator -----------------------------------------------------------------------------------
def _log_int(rng: random.Random, low: int, high: int) -> int:
    return int(round(math.exp(rng.uniform(math.log(low), math.log(high)))))


def _pick(rng, weighted):
    values, weights = zip(*weighted)
    return rng.choices(values, weights)[0]


def _conv_params(rng, first: bool):
    k = _pick(rng, [(1, 2), (3, 6), (5, 2), (7, 2), (2, 0.1), (4, 0.1)])
    kernel = [k, k] if rng.random() < 0.95 else [k, _pick(rng, [(1, 1), (3, 1), (5, 1)])]
    stride = min(k, _pick(rng, [(1, 7), (2, 3), (3, 0.5)])) if rng.random() < 0.97 else 2
    pool_type = _pick(rng, [("none", 5), ("max", 3.5), ("avg", 1.5)])
    pool = {"pool_type": pool_type, "pool_size": [-1, -1], "pool_stride": [-1, -1]}
    if pool_type == "max":
        size = _pick(rng, [(2, 6), (1, 1), (3, 1)])
        pool["pool_size"] = [size, size] if rng.random() < 0.95 else [size, 1]
        if rng.random() < 0.3:
            ps = rng.randint(1, size) if rng.random() < 0.95 else size + 1
            pool["pool_stride"] = [ps, ps]
    return {
        "kernel_size": kernel,
        "kernel_stride": [stride, stride] if rng.random() < 0.97 else [stride, 1],
        "padding": "same" if rng.random() < (0.7 if first else 0.92) else "valid",
        "weights_bits": _pick(rng, [(1, 1), (2, 2), (4, 4), (8, 0.1 if not first else 2)]),
        "activation": rng.random() < 0.95,
        "act_bits": _pick(rng, [(1, 1), (2, 1), (4, 3)]),
        **pool,
    }


def random_model(rng: random.Random) -> list[dict]:
    """One random model: InputData or InputConvolutional, then 1-4 Convolutional / Separable / Dense."""
    d0, d1 = _log_int(rng, 1, 224), _log_int(rng, 1, 224)
    if rng.random() < 0.2:
        d1 = d0
    layers = []
    if rng.random() < 0.25:
        c = _pick(rng, [(1, 1), (3, 3), (2, 0.1)])
        d0, d1 = max(d0, 4), max(d1, 4)
        filters = _pick(rng, [(_log_int(rng, 1, 200), 4), (_log_int(rng, 1, 600), 1)])
        layers.append({"type": "InputConvolutional", "input_shape": [d0, d1, c], "filters": filters,
                       **_conv_params(rng, True)})
    else:
        c = _log_int(rng, 1, 1024)
        layers.append({"type": "InputData", "input_shape": [d0, d1, c],
                       "input_bits": _pick(rng, [(1, 1), (2, 1), (4, 4), (8, 0.2)])})
    for i in range(_pick(rng, [(1, 5), (2, 3), (3, 2), (4, 1)])):
        kind = _pick(rng, [("Convolutional", 5), ("SeparableConvolutional", 2.5), ("FullyConnected", 2)])
        if kind == "FullyConnected":
            layers.append({"type": kind, "units": _log_int(rng, 1, 2048),
                           "weights_bits": _pick(rng, [(1, 1), (2, 2), (4, 4), (8, 0.1)]),
                           "activation": rng.random() < 0.7, "act_bits": _pick(rng, [(1, 1), (2, 1), (4, 3)])})
        else:
            layers.append({"type": kind, "filters": _pick(rng, [(_log_int(rng, 1, 512), 4),
                                                                 (_log_int(rng, 1, 2048), 1)]),
                           **_conv_params(rng, False)})
    for i, layer in enumerate(layers):
        layer["name"] = f"l{i}"
    return layers


def random_models(seed: int, count: int) -> list[list[dict]]:
    """`count` models from `seed` whose layers stay below 24 M weights and 6 M inputs (memory, time)."""
    rng = random.Random(seed)
    models = []
    while len(models) < count:
        model = random_model(rng)
        if _small_enough(model):
            models.append(model)
    return models


def capacity_models(seed: int, count: int) -> list[list[dict]]:
    """`count` single CNP layers over the capacity rules' whole range: channels and filters 1-2048, every
    kernel, weight and input width, inputs from one strip to many along both axes (docs/spec D.5.1)."""
    rng = random.Random(seed)
    models = []
    while len(models) < count:
        kind = _pick(rng, [("Convolutional", 2), ("SeparableConvolutional", 1)])
        c = _log_int(rng, 1, 2048)
        d0, d1 = _log_int(rng, 1, 160), _log_int(rng, 1, 800)
        layer = {"type": kind, "filters": _log_int(rng, 1, 2048), "kernel_size": [rng.choice([1, 3, 5, 7])] * 2,
                 "kernel_stride": [1, 1], "padding": "same",
                 "weights_bits": rng.choice([2, 4] if kind != "Convolutional" else [1, 2, 4]),
                 "activation": True, "act_bits": 4, "pool_type": "none", "pool_size": [-1, -1],
                 "pool_stride": [-1, -1], "name": "l1"}
        model = [{"type": "InputData", "input_shape": [d0, d1, c], "input_bits": rng.choice([1, 2, 4]), "name": "l0"},
                 layer]
        if _small_enough(model):
            models.append(model)
    return models


def _small_enough(model) -> bool:
    d0, d1, channels = model[0]["input_shape"]
    for desc in model:
        if desc["type"] == "InputData":
            continue
        if desc["type"] == "FullyConnected":
            weights, d0, d1, channels = d0 * d1 * channels * desc["units"], 1, 1, desc["units"]
        else:
            weights = desc["kernel_size"][0] * desc["kernel_size"][1] * channels * desc["filters"]
            shrink = desc["kernel_stride"][0] * max(1, desc["pool_size"][0])
            d0, d1, channels = -(-d0 // shrink), -(-d1 // shrink), desc["filters"]
        if d0 * d1 * channels > 6_000_000 or weights > 24_000_000:
            return False
    return True


# -- both sides: akida's Model API, which akq speaks too -----------------------------------------------
def layer(desc, lib):
    """The layer of description `desc` built with `lib`'s public API (the akq or the akida module)."""
    args = {key: tuple(value) if isinstance(value, list) else value for key, value in desc.items() if key != "type"}
    if desc["type"] not in ("InputData", "FullyConnected"):
        args["padding"] = lib.Padding.Same if args["padding"] == "same" else lib.Padding.Valid
        args["pool_type"] = {"none": lib.PoolType.NoPooling, "max": lib.PoolType.Max,
                             "avg": lib.PoolType.Average}[args["pool_type"]]
    return getattr(lib, desc["type"])(**args)


def mapping_outcome(m) -> dict:
    """The sequences and NPs of a mapped akq or akida model."""
    return {"sequences": [[s.name, s.backend.name, [[layer.name for layer in p.layers] for p in s.passes]]
                          for s in m.sequences],
            "nps": {layer.name: [[np_.type.name, np_.filters] for np_ in layer.mapping.nps]
                    for layer in m.layers if layer.mapping is not None}}


# -- akq ---------------------------------------------------------------------------------------------
def akq_model(model):
    """`model` built with akq's public API (AkqError if akq refuses a parameter or the chain)."""
    import akq

    m = akq.Model()
    for desc in model:
        m.add(layer(desc, akq))
    return m


def akq_outcome(model) -> dict:
    """akq's answer to map(AKD1000(), hw_only=True) on `model`."""
    import akq
    from akq.errors import AkqError, HardwareError

    try:
        m = akq_model(model)
    except AkqError as error:
        return {"invalid": str(error)}
    try:
        m.map(akq.AKD1000(), hw_only=True)
    except HardwareError as error:
        message = str(error)
        return refusal(message.split("'")[1] if "'" in message else "", message, 1)
    return mapping_outcome(m)


# -- akida (in a child process) ----------------------------------------------------------------------
def akida_outcome(model) -> dict:
    """akida 2.4.0's answer to map(AKD1000(), hw_only=True) on `model` (imports akida)."""
    import akida
    import numpy as np

    try:
        m = akida.Model()
        for desc in model:
            m.add(layer(desc, akida))
            added = m.layers[-1]
            for name in ("weights", "weights_pw"):  # all-zero HRC / separable weights are refused
                if name in added.get_variable_names():
                    added.set_variable(name, np.ones(added.get_variable(name).shape, np.int8))
    except Exception as error:  # noqa: BLE001 - the reference's parameter refusals are plain exceptions
        return {"invalid": str(error)}
    try:
        m.map(akida.AKD1000(), hw_only=True)
    except Exception as error:  # noqa: BLE001
        message = str(error)
        return refusal(message.split("'")[1] if "layer '" in message else message.split(":")[0], message, 0)
    return mapping_outcome(m)


class AkidaWorker:
    """akida_outcome in a child process; a model it does not answer within `timeout` s gives {"timeout": s}."""

    def __init__(self, timeout: float = 20.0):
        self.timeout = timeout
        self._process = None

    def _start(self):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
        self._process = subprocess.Popen([sys.executable, "-u", __file__, "--worker"], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True, env=env)

    def outcome(self, model) -> dict:
        if self._process is None:
            self._start()
        self._process.stdin.write(json.dumps(model) + "\n")
        self._process.stdin.flush()
        answer = _read_line(self._process.stdout, self.timeout)
        if answer is None:
            self.close()
            return {"timeout": self.timeout}
        return json.loads(answer)

    def close(self):
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _read_line(stream, timeout):
    import selectors

    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        if not selector.select(timeout):
            return None
    line = stream.readline()
    return line or None


def difference(reference: dict, ours: dict) -> str | None:
    """Why akq's outcome differs from the reference's, or None if they agree."""
    strip = {"message"}
    a = {k: v for k, v in reference.items() if k not in strip}
    b = {k: v for k, v in ours.items() if k not in strip}
    if "invalid" in a and "invalid" in b:
        return None
    if "timeout" in a:
        return None if "timeout" not in b else "akq timed out"
    if a == b:
        return None
    return f"reference {reference} / akq {ours}"


def _worker():
    for line in sys.stdin:
        print(json.dumps(akida_outcome(json.loads(line))), flush=True)


if __name__ == "__main__" and sys.argv[1:] == ["--worker"]:
    _worker()
