"""Legacy cnn2snn checkpoints (tests/legacy_h5: Keras 2 .h5 files written by cnn2snn 2.4.0 / TF 2.12).

akq.load_quantized_model reads them into Keras 3 models of akq layers that reproduce the reference's Keras
outputs, and converting them reproduces akida's forward outputs bit for bit.
"""

import json
import shutil
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest

import akq
from akq.errors import LegacyModelError, ModelFileError, UnknownLegacyLayerError, WeightsMismatchError

LEGACY_DIR = Path(__file__).parent / "legacy_h5"
CASES = sorted(p.name for p in LEGACY_DIR.glob("case_*"))


def load_case(name: str):
    directory = LEGACY_DIR / name
    with np.load(directory / "data.npz") as npz:
        data = {key: npz[key] for key in npz.files}
    scaling = json.loads((directory / "meta.json").read_text())["input_scaling"]
    return akq.load_quantized_model(directory / "model.h5"), data, None if scaling is None else tuple(scaling)


@pytest.mark.parametrize("name", CASES)
def test_checkpoint_loads_with_the_reference_outputs_and_converts_bit_exactly(name):
    model, data, scaling = load_case(name)
    np.testing.assert_allclose(np.asarray(model(data["keras_input"], training=False)), data["keras_output"],
                               rtol=1e-3, atol=1e-4)
    got = akq.convert(model, input_scaling=scaling).forward(data["inputs"])
    assert got.dtype == data["akida_forward"].dtype
    np.testing.assert_array_equal(got, data["akida_forward"])


def test_loaded_model_fine_tunes_and_saves_as_keras(tmp_path):
    model, data, _ = load_case("case_0002")
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = keras.models.load_model(path)
    np.testing.assert_array_equal(np.asarray(reloaded(data["keras_input"])), np.asarray(model(data["keras_input"])))
    before = [w.copy() for w in model.get_weights()]
    model.compile(optimizer="sgd", loss="mse", run_eagerly=True)  # eager: one tiny step, no graph tracing
    model.fit(data["keras_input"], data["keras_output"] + 1, epochs=1, verbose=0)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_load_partial_weights_copies_layers_by_name():
    source, data, _ = load_case("case_0015")
    destination = keras.models.clone_model(source)  # same layers, fresh weights
    akq.load_partial_weights(destination, source)
    np.testing.assert_array_equal(np.asarray(destination(data["keras_input"])),
                                  np.asarray(source(data["keras_input"])))


def test_load_partial_weights_refuses_same_name_different_shapes():
    source = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="dense")])
    destination = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, name="dense")])
    with pytest.raises(WeightsMismatchError, match="layer 'dense'"):
        akq.load_partial_weights(destination, source)


def as_functional(config, branch_to_input: bool = False):
    """The Keras 2 functional form of a Sequential config (each layer fed by the previous one)."""
    layers = config["config"]["layers"]
    for previous, layer in zip(layers, layers[1:]):
        source = layers[0] if branch_to_input and layer is layers[-1] else previous
        layer["inbound_nodes"] = [[[source["config"]["name"], 0, 0, {}]]]
    for layer in layers:
        layer["name"] = layer["config"]["name"]
    layers[0]["inbound_nodes"] = []
    return {"class_name": "Functional", "config": {"name": "functional", "layers": layers}}


def test_a_linear_functional_checkpoint_loads_and_a_branching_one_is_refused(tmp_path):
    _, data, _ = load_case("case_0003")
    model = akq.load_quantized_model(edited_copy(tmp_path, "case_0003", as_functional))
    np.testing.assert_allclose(np.asarray(model(data["keras_input"])), data["keras_output"], rtol=1e-3, atol=1e-4)
    path = edited_copy(tmp_path, "case_0003", lambda config: as_functional(config, branch_to_input=True))
    with pytest.raises(LegacyModelError, match="layer 'adrelu_3' takes .*input.*linear models only"):
        akq.load_quantized_model(path)


# -- error paths -----------------------------------------------------------------------------------
def edited_copy(tmp_path, case: str, edit) -> Path:
    """A copy of the case's model.h5 with its model config passed through `edit(config) -> config`."""
    path = tmp_path / f"{case}_edited.h5"
    shutil.copy(LEGACY_DIR / case / "model.h5", path)
    with h5py.File(path, "r+") as file:
        file.attrs["model_config"] = json.dumps(edit(json.loads(file.attrs["model_config"])))
    return path


def rename_class(old: str, new: str):
    return lambda config: json.loads(json.dumps(config).replace(f'"{old}"', f'"{new}"'))


def test_a_layer_akq_does_not_know_is_named(tmp_path):
    path = edited_copy(tmp_path, "case_0003", rename_class("BatchNormalization", "FancyNormalization"))
    with pytest.raises(UnknownLegacyLayerError, match="layer 'bn_2': FancyNormalization is neither"):
        akq.load_quantized_model(path)


def unknown_quantizer(config):
    config["config"]["layers"][1]["config"]["quantizer"]["class_name"] = "LogQuantizer"
    return config


def test_an_unknown_quantizer_is_named(tmp_path):
    path = edited_copy(tmp_path, "case_0002", unknown_quantizer)
    with pytest.raises(UnknownLegacyLayerError, match="unknown cnn2snn quantizer LogQuantizer"):
        akq.load_quantized_model(path)


def test_a_plain_keras_model_is_not_a_cnn2snn_model(tmp_path):
    path = edited_copy(tmp_path, "case_0002", rename_class("QuantizedConv2D", "Conv2D"))
    with pytest.raises(LegacyModelError, match="without any cnn2snn quantized layer.*keras.models.load_model"):
        akq.load_quantized_model(path)


def test_files_that_are_not_keras_models_are_refused(tmp_path):
    (tmp_path / "text.h5").write_text("not hdf5")
    with h5py.File(tmp_path / "weights.h5", "w") as file:
        file["kernel"] = np.zeros(3)
    for name, message in [("text.h5", "not a readable HDF5 file"), ("weights.h5", "holds no Keras model"),
                          ("missing.h5", "no such file")]:
        with pytest.raises(LegacyModelError, match=message):
            akq.load_quantized_model(tmp_path / name)
    assert issubclass(LegacyModelError, ModelFileError) and issubclass(UnknownLegacyLayerError, LegacyModelError)
