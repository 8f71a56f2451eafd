"""Property test of the public engine API (issue 13): random argument types and values for every
constructor and Model method give a result, an akq error or a documented built-in (OSError from the
file system), never a pybind11 TypeError, another internal exception or a crash."""

import os

import akq
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("AKQ_HYPOTHESIS_EXAMPLES", 600))  # per test; about 40 s in all on one core
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# -- values of every kind: plausible ones, extremes, wrong types -----------------------------------
SMALL = st.integers(-2, 12)
EXTREME = st.sampled_from([0, -1, 2**31 - 1, 2**31, -2**31 - 1, 2**40, 2**63, -2**70])
INTS = st.one_of(SMALL, SMALL, EXTREME, st.builds(np.int64, SMALL), st.booleans())
SCALARS = st.one_of(INTS, st.floats(allow_nan=True), st.none(), st.text(max_size=6),
                    st.sampled_from(["same", "valid", "max", "average", "none", "a\udcff", "\0"]),
                    st.binary(max_size=6), st.sampled_from(list(akq.Padding.__members__.values())),
                    st.sampled_from(list(akq.PoolType.__members__.values())))
PAIRS = st.one_of(INTS, st.tuples(INTS, INTS), st.lists(SCALARS, max_size=4), st.tuples(SMALL, SMALL))
ARRAYS = st.builds(
    lambda dtype, shape, fill: np.full(shape, fill, dtype=dtype) if dtype != "O" else np.empty(shape, "O"),
    st.sampled_from(["uint8", "int8", "int32", "int64", "float32", "float64", "bool", "O"]),
    st.lists(st.integers(0, 9), max_size=5).map(tuple), st.integers(0, 1))
ANY = st.one_of(SCALARS, PAIRS, ARRAYS, st.dictionaries(st.text(max_size=3), SMALL, max_size=2))


def shapes(valid):
    return st.one_of(st.just(valid), st.tuples(SMALL, SMALL, SMALL), PAIRS, ANY)


def check(call, *allowed):
    """Run `call`; only akq errors and the `allowed` built-ins may escape."""
    try:
        call()
    except akq.AkqError:
        pass
    except allowed:
        pass


# -- constructors ------------------------------------------------------------------------------------
CONVOLUTION_ARGUMENTS = st.fixed_dictionaries({}, optional={
    "name": st.one_of(st.text(max_size=8), ANY), "kernel_stride": PAIRS, "padding": SCALARS,
    "pool_size": PAIRS, "pool_type": SCALARS, "pool_stride": PAIRS, "weights_bits": INTS,
    "activation": SCALARS, "act_bits": INTS})


@SETTINGS
@given(kind=st.sampled_from([akq.Convolutional, akq.SeparableConvolutional, akq.InputConvolutional]),
       input_shape=shapes((8, 8, 1)), kernel_size=st.one_of(st.just(3), PAIRS), filters=st.one_of(SMALL, ANY),
       kwargs=CONVOLUTION_ARGUMENTS, padding_value=INTS)
def test_convolution_constructors_and_add(kind, input_shape, kernel_size, filters, kwargs, padding_value):
    def build():
        if kind is akq.InputConvolutional:
            layer = kind(input_shape, kernel_size, filters, padding_value=padding_value, **kwargs)
            akq.Model([layer]).forward(np.zeros((1, *layer.input_dims), np.uint8))
        else:
            model = akq.Model([akq.InputData((8, 8, 2), name="in")])
            model.add(kind(kernel_size, filters, **kwargs))
            model.forward(np.zeros((2, 8, 8, 2), np.uint8))
    check(build)


@SETTINGS
@given(input_shape=shapes((4, 4, 3)), input_bits=INTS, name=st.one_of(st.text(max_size=8), ANY), units=ANY,
       weights_bits=INTS, activation=SCALARS, act_bits=INTS)
def test_input_data_and_fully_connected(input_shape, input_bits, name, units, weights_bits, activation, act_bits):
    def build():
        model = akq.Model([akq.InputData(input_shape, input_bits=input_bits, name=name)])
        model.add(akq.FullyConnected(units, weights_bits=weights_bits, activation=activation, act_bits=act_bits))
        model.forward(np.zeros((1, *model.input_shape), np.uint8))
    check(build)


@SETTINGS
@given(layers=st.one_of(ANY, st.lists(st.sampled_from(["input", "fc", "conv", "junk"]), max_size=4)))
def test_model_constructor(layers):
    makers = {"input": lambda: akq.InputData((4, 4, 2)), "fc": lambda: akq.FullyConnected(3),
              "conv": lambda: akq.Convolutional(3, 2), "junk": lambda: "junk"}
    if isinstance(layers, list) and all(isinstance(v, str) and v in makers for v in layers):
        layers = [makers[v]() for v in layers]
    check(lambda: akq.Model(layers), OSError)  # akida's Model(filename) for a str or a path
    check(lambda: akq.Model(layers=layers))


# -- Model methods -----------------------------------------------------------------------------------
def small_model(activation: bool) -> akq.Model:
    return akq.Model([akq.InputConvolutional((6, 5, 1), 3, 4, name="in", weights_bits=8),
                      akq.FullyConnected(3, name="fc", weights_bits=2, activation=activation)])


INPUTS = st.one_of(ARRAYS, ANY, st.builds(lambda n: np.zeros((n, 6, 5, 1), np.uint8), st.integers(0, 3)))


@SETTINGS
@given(activation=st.booleans(), method=st.sampled_from(["forward", "predict", "evaluate", "statistics",
                                                         "get_layer", "map", "summary", "add", "from_bytes",
                                                         "pop_layer", "from_dict", "from_json", "compile", "fit",
                                                         "predict_classes", "add_classes"]),
       first=st.one_of(INPUTS, SCALARS), second=ANY, third=st.one_of(INTS, ANY, st.none()))
def test_model_methods(activation, method, first, second, third):
    model = small_model(activation)
    calls = {
        "forward": lambda: model.forward(first, threads=third),
        "predict": lambda: model.predict(first, threads=third),
        "evaluate": lambda: model.evaluate(first, second, threads=third),
        "statistics": lambda: (model.forward(np.zeros((1, 6, 5, 1), np.uint8)), model.statistics),
        "get_layer": lambda: model.get_layer(first),
        "map": lambda: model.map(akq.AKD1000() if isinstance(first, bool) else first, hw_only=second, mode=third),
        "summary": lambda: (model.map(akq.AKD1000()), model.summary()),
        "add": lambda: model.add(first),
        "from_bytes": lambda: akq.Model.from_bytes(first),
        "pop_layer": lambda: (model.pop_layer(), model.get_layer_count(), model.to_buffer()),
        "from_dict": lambda: akq.Model.from_dict(first if isinstance(first, bool) else {**model.to_dict(), "x": second}),
        "from_json": lambda: akq.Model.from_json(first),
        "compile": lambda: model.compile(first, seed=third),
        "fit": lambda: model.fit(first, second),
        "predict_classes": lambda: model.predict_classes(first, num_classes=third),
        "add_classes": lambda: model.add_classes(first),
    }
    check(calls[method])
    check(lambda: akq.check_hardware(first))
    check(lambda: akq.Performance(first))


@SETTINGS
@given(name=st.one_of(st.sampled_from(["weights", "threshold", "act_step", "weights_pw"]), ANY),
       value=st.one_of(ARRAYS, ANY, st.builds(lambda v: np.full((3, 3, 1, 4), v, np.int8), st.integers(-128, 127)),
                       st.builds(lambda v: np.full(4, v, np.float32), st.floats(width=32))))
def test_layer_variables(name, value):
    layer = small_model(True).get_layer("in")
    check(lambda: layer.get_variable(name))
    check(lambda: layer.set_variable(name, value))


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    return tmp_path_factory.mktemp("api")


@SETTINGS
@given(name=st.one_of(st.text(max_size=12).filter(lambda t: "/" not in t), st.binary(max_size=8)
                      .filter(lambda b: b"/" not in b), SCALARS),
       contents=st.binary(max_size=64))
def test_save_and_load_paths(directory, name, contents):
    model = small_model(False)
    path = name
    if isinstance(name, str):
        path = os.path.join(directory, name)
    elif isinstance(name, bytes):
        path = os.path.join(os.fsencode(directory), name)
    check(lambda: model.save(path), OSError)
    check(lambda: akq.load_model(path), OSError)
    junk = directory / "junk.akq"
    junk.write_bytes(model.to_bytes()[:len(contents)] + contents)
    check(lambda: akq.load_model(junk))
