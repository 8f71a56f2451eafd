"""akq <-> BrainChip's akida runtime (Model.to_akida, akq.from_akida, .fbz files), checked against akida itself.

Differential on every golden case (akq's conversion exported to akida gives the reference's output, also
after a .fbz round trip; the reference model rebuilt in akida comes back into akq with the same output),
property tests on random akq models of every layer type, and the error paths.
"""

import sys

import numpy as np
import pytest

import akq
from akq.errors import AkidaCompatibilityError, AkidaNotInstalledError, ModelFileError, NotAnAkidaModelError
from golden_cases import all_cases, keras_model, runtime_model
from test_engine_reference import random_model

akida = pytest.importorskip("akida", reason="the akida runtime is not installed (pip install 'akq[akida]')")

CASES = all_cases()
RANDOM_SEEDS = range(300)


def assert_same_output(got, expected):
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


# -- golden cases: both directions -----------------------------------------------------------------
@pytest.fixture(scope="module")
def converted():
    return {case.name: akq.convert(keras_model(case), input_scaling=case.input_scaling) for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_converted_golden_model_runs_in_akida_as_the_reference(case, converted, tmp_path):
    exported = converted[case.name].to_akida()
    assert isinstance(exported, akida.Model)
    assert_same_output(exported.forward(case.data["inputs"]), case.data["akida_forward"])
    exported.save(str(tmp_path / "model.fbz"))
    reloaded = akida.Model(str(tmp_path / "model.fbz"))
    assert_same_output(reloaded.forward(case.data["inputs"]), case.data["akida_forward"])


@pytest.mark.parametrize("case", CASES, ids=str)
def test_reference_model_built_in_akida_comes_back_into_akq(case):
    model = akq.from_akida(runtime_model(case))
    assert [layer.name for layer in model.layers] == [desc["name"] for desc in case.akida_layers]
    for index, layer in enumerate(model.layers):
        for name, value in case.variables(index).items():
            np.testing.assert_array_equal(layer.get_variable(name), value)
    assert_same_output(model.forward(case.data["inputs"]), case.data["akida_forward"])


# -- random akq models -----------------------------------------------------------------------------
def exportable_random_model(seed):
    """test_engine_reference's random model, extreme every 4th seed, with act_steps akida can take (< 2^27)."""
    model, x = random_model(seed, extreme=seed % 4 == 0)
    for layer in model.layers:
        if "act_step" in layer.variables:
            layer.set_variable("act_step", np.minimum(layer.get_variable("act_step"), np.float32(2**27 - 16)))
    return model, x


def normalized_parameters(layer) -> dict:
    """The layer's parameters with akq's defaults resolved as akida stores them."""
    parameters = vars(layer.parameters).copy()
    if parameters.get("pool_type") == akq.PoolType.Max and parameters["pool_stride"] == (-1, -1):
        parameters["pool_stride"] = parameters["pool_size"]
    if "padding_value" in parameters:
        parameters["padding_value"] %= 256
    return parameters


@pytest.mark.parametrize("seed", RANDOM_SEEDS)
def test_random_model_runs_in_akida_and_round_trips(seed):
    model, x = exportable_random_model(seed)
    exported = model.to_akida()
    assert_same_output(exported.forward(x), model.forward(x))
    back = akq.from_akida(exported)
    assert [layer.name for layer in back.layers] == [layer.name for layer in model.layers]
    for original, copy in zip(model.layers, back.layers):
        assert vars(copy.parameters) == normalized_parameters(original)
        for name in original.variables:
            np.testing.assert_array_equal(copy.get_variable(name), original.get_variable(name))
    assert_same_output(back.forward(x), model.forward(x))


@pytest.mark.parametrize("kernel, stride, padding", [((1, 1), (2, 2), "Same"), ((1, 1), (3, 3), "Valid"),
                                                     ((1, 1), (2, 1), "Same"), ((3, 1), (3, 2), "Valid")])
def test_input_convolution_strided_past_its_kernel_runs_as_in_akida(kernel, stride, padding):
    # akida builds (and runs in software) an InputConvolutional whose stride exceeds its kernel; its mapper
    # refuses the kernel size only later, so akq takes such a layer in too
    rng = np.random.default_rng(sum(kernel + stride))
    reference = akida.Model()
    reference.add(akida.InputConvolutional(input_shape=(11, 10, 3), kernel_size=kernel, kernel_stride=stride,
                                           filters=5, padding=getattr(akida.Padding, padding), weights_bits=4,
                                           act_bits=4, name="l0"))
    layer = reference.layers[0]
    layer.set_variable("weights", rng.integers(-7, 8, layer.get_variable("weights").shape).astype(np.int8))
    layer.set_variable("threshold", rng.integers(-50, 50, 5).astype(np.int32))
    layer.set_variable("act_step", rng.uniform(5, 40, 5).astype(np.float32))
    x = rng.integers(0, 256, (4, 11, 10, 3)).astype(np.uint8)
    assert_same_output(akq.from_akida(reference).forward(x), reference.forward(x))


def test_fbz_path_loads_and_runs(tmp_path):
    model, x = exportable_random_model(7)
    model.to_akida().save(str(tmp_path / "m.fbz"))
    assert_same_output(akq.from_akida(tmp_path / "m.fbz").forward(x), model.forward(x))
    assert_same_output(akq.from_akida(str(tmp_path / "m.fbz")).forward(x), model.forward(x))


# -- what one side cannot express ------------------------------------------------------------------
def fully_connected(act_step: float):
    model = akq.Model([akq.InputData((1, 1, 8), name="in"), akq.FullyConnected(4, name="fc", act_bits=4)])
    model.layers[1].set_variable("act_step", np.full(4, act_step, np.float32))
    return model


@pytest.mark.parametrize("act_step", [2.0**24, 3 * 2.0**24, 2.0**27, 2.0**29])
def test_act_steps_that_crash_akida_are_refused(act_step):
    with pytest.raises(AkidaCompatibilityError, match=r"layer 'fc': act_step\[0\].*below 2\^24"):
        fully_connected(act_step).to_akida()


def test_large_act_steps_akida_takes_are_exported():
    fully_connected(2.0**27 - 16).to_akida()
    fully_connected(2.0**24 + 2).to_akida()


def akida2_model():
    model = akida.Model()
    model.add(akida.InputConv2D(input_shape=(8, 8, 3), filters=4, kernel_size=3, name="stem"))
    return model


def test_akida2_layers_are_refused(tmp_path):
    with pytest.raises(AkidaCompatibilityError, match="layer 'stem' is an Akida 2.0 InputConv2D layer.*Akida 1.0"):
        akq.from_akida(akida2_model())
    akida2_model().save(str(tmp_path / "v2.fbz"))
    with pytest.raises(AkidaCompatibilityError, match="Akida 2.0"):
        akq.from_akida(tmp_path / "v2.fbz")


def test_signed_inputs_are_refused():
    model = akida.Model()
    try:
        model.add(akida.InputData(input_shape=(4, 4, 2), input_bits=4, input_signed=True, name="signed"))
    except TypeError:
        pytest.skip(f"akida {akida.__version__} has no signed InputData")
    with pytest.raises(AkidaCompatibilityError, match="layer 'signed'.*signed inputs"):
        akq.from_akida(model)


def test_padding_without_an_akida1_equivalent_is_refused():
    if "SameUpper" not in akida.Padding.__members__:
        pytest.skip(f"akida {akida.__version__} has no SameUpper padding")
    model = akida.Model()
    model.add(akida.InputData(input_shape=(8, 8, 2), input_bits=4, name="in"))
    model.add(akida.Convolutional(kernel_size=(3, 3), filters=4, padding=akida.Padding.SameUpper, name="conv"))
    with pytest.raises(AkidaCompatibilityError, match="layer 'conv' .*padding SameUpper has no Akida 1.0 equivalent"):
        akq.from_akida(model)


@pytest.mark.parametrize("value", [None, 3, "model.akq", akq.Model()])
def test_a_non_akida_object_is_refused(value, tmp_path):
    if value == "model.akq":
        fully_connected(1.0).save(tmp_path / "model.akq")
        value = str(tmp_path / "model.akq")
    error = ModelFileError if isinstance(value, str) else NotAnAkidaModelError
    with pytest.raises(error, match="akida"):
        akq.from_akida(value)


def test_corrupt_and_missing_fbz_files_are_refused(tmp_path):
    fully_connected(1.0).to_akida().save(str(tmp_path / "good.fbz"))
    data = (tmp_path / "good.fbz").read_bytes()
    (tmp_path / "truncated.fbz").write_bytes(data[: len(data) // 2])
    (tmp_path / "garbage.fbz").write_bytes(b"not a model" * 10)
    for name in ("truncated.fbz", "garbage.fbz"):
        with pytest.raises(ModelFileError, match=f"{name}: akida .* cannot read this model file"):
            akq.from_akida(tmp_path / name)
    with pytest.raises(ModelFileError, match="no such akida model file"):
        akq.from_akida(tmp_path / "missing.fbz")


def test_missing_akida_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "akida", None)  # import akida now raises ImportError
    for call in (fully_connected(1.0).to_akida, lambda: akq.from_akida("model.fbz")):
        with pytest.raises(AkidaNotInstalledError, match=r"pip install 'akq\[akida\]'"):
            call()
