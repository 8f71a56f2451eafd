"""akida's Model surface on akq.Model (python/akq/akida_api.py), against the live akida 2.4.0 runtime
where it is installed: the same summary text, dictionaries each side reads, the same mapping objects."""

import contextlib
import io
import re

import numpy as np
import pytest

import akq
from akq.errors import EngineError, LayerError


def build(lib):
    """The same model through akq's or akida's public API: every layer type, a software sequence."""
    m = lib.Model()
    m.add(lib.InputConvolutional(input_shape=(32, 32, 3), kernel_size=(3, 3), filters=16, weights_bits=4, act_bits=4,
                                 pool_type=lib.PoolType.Max, pool_size=(2, 2), name="conv_0"))
    m.add(lib.SeparableConvolutional(kernel_size=(3, 3), filters=32, weights_bits=4, act_bits=4, name="separable_1"))
    m.add(lib.Convolutional(kernel_size=(3, 3), filters=64, weights_bits=8, act_bits=4, name="wide_conv"))
    m.add(lib.FullyConnected(units=10, weights_bits=4, activation=False, name="dense"))
    return m


def fill(*models, seed=0):
    rng = np.random.default_rng(seed)
    for layers in zip(*(m.layers for m in models)):
        for name in layers[0].variables if isinstance(layers[0], akq.model.Layer) else layers[0].get_variable_names():
            value = layers[0].get_variable(name)
            if name.startswith("weights"):
                value = rng.integers(-7, 8, value.shape).astype(np.int8)
            elif name == "threshold":
                value = rng.integers(0, 50, value.shape).astype(np.int32)
            for layer in layers:
                layer.set_variable(name, value)


def printed(model) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        model.summary()
    return out.getvalue()


@pytest.fixture
def akida():
    module = pytest.importorskip("akida", reason="comparing with the reference needs akida 2.4.0")
    if module.__version__ != "2.4.0":
        pytest.skip(f"the reference is akida 2.4.0, installed: {module.__version__}")
    return module


def test_summary_is_laid_out_like_akida(akida):
    ours, theirs = build(akq), build(akida)
    fill(ours, theirs)
    assert printed(ours) == printed(theirs)  # unmapped: one software sequence
    ours.map(akq.AKD1000())
    theirs.map(akida.AKD1000())
    sizes = re.compile(r"size: \d+ bytes")  # akq's program sizes are estimates (tests/test_device_mapping.py)
    ours_text, theirs_text = printed(ours), printed(theirs)
    assert sizes.sub("size: N bytes", ours_text) == sizes.sub("size: N bytes", theirs_text)
    assert len(sizes.findall(ours_text)) == 2


def test_dictionaries_are_read_by_each_side(akida):
    ours, theirs = build(akq), build(akida)
    fill(ours, theirs)
    x = np.random.default_rng(1).integers(0, 256, (3, 32, 32, 3)).astype(np.uint8)
    assert ours.to_dict() == theirs.to_dict()
    np.testing.assert_array_equal(akida.Model.from_dict(ours.to_dict()).forward(x), ours.forward(x))
    np.testing.assert_array_equal(akq.Model.from_dict(theirs.to_dict()).forward(x), ours.forward(x))
    np.testing.assert_array_equal(akq.Model.from_json(theirs.to_json()).forward(x), ours.forward(x))
    assert akida.Model.from_json(ours.to_json()).get_layer_count() == 4


def test_mapping_objects_have_akidas_names(akida):
    ours, theirs = build(akq), build(akida)
    fill(ours, theirs)
    ours.map(akq.AKD1000())
    theirs.map(akida.AKD1000())
    for a, b in zip(ours.sequences, theirs.sequences):
        assert (a.name, a.backend.name) == (b.name, b.backend.name)
        assert [[layer.name for layer in p.layers] for p in a.passes] == \
            [[layer.name for layer in p.layers] for p in b.passes]
    for a, b in zip(ours.layers, theirs.layers):
        assert (a.mapping is None) == (b.mapping is None)
        if a.mapping is not None:
            assert [(str(n.ident), n.type.name, n.filters) for n in a.mapping.nps] == \
                [(str(n.ident), n.type.name, n.filters) for n in b.mapping.nps]
    assert str(ours.ip_version) == str(theirs.ip_version) == "IpVersion.v1"


def test_model_from_filename_and_from_layers(tmp_path):
    model = build(akq)
    fill(model)
    path = tmp_path / "model.akq"
    model.save(path)
    x = np.random.default_rng(2).integers(0, 256, (2, 32, 32, 3)).astype(np.uint8)
    np.testing.assert_array_equal(akq.Model(str(path)).forward(x), model.forward(x))
    head = akq.Model(layers=model.layers[:2])  # copies, variables included
    assert head.get_layer_count() == 2 and model.get_layer_count() == 4
    np.testing.assert_array_equal(head.get_layer("separable_1").get_variable("weights_pw"),
                                  model.get_layer("separable_1").get_variable("weights_pw"))
    assert head.forward(x).shape == (2, 16, 16, 32)
    tail = akq.Model(layers=model.layers[1:])  # an InputData is put first, shaped like the first input
    assert tail.layers[0].parameters.input_shape == (16, 16, 16) and tail.get_layer_count() == 4
    assert tail.layers[0].parameters.input_bits == 4  # conv_0's act_bits
    np.testing.assert_array_equal(tail.get_layer("dense").get_variable("weights"),
                                  model.get_layer("dense").get_variable("weights"))
    assert len(model.to_buffer()) > 0 and akq.Model.from_bytes(model.to_buffer()).get_layer_count() == 4


def test_pop_layer():
    model = build(akq)
    model.map(akq.AKD1000())
    model.pop_layer()
    assert model.get_layer_count() == 3 and model.sequences is None and model.output_shape == (16, 16, 64)
    for _ in range(3):
        model.pop_layer()
    with pytest.raises(LayerError, match="empty model"):
        model.pop_layer()


def test_statistics_is_a_property_and_metrics_follow_an_inference():
    model = build(akq)
    fill(model)
    assert model.metrics.names == []
    with pytest.raises(EngineError, match="run model.forward"):
        model.statistics
    x = np.random.default_rng(3).integers(0, 256, (5, 32, 32, 3)).astype(np.uint8)
    model.forward(x)
    assert model.statistics.layers[0].samples == 5
    assert model.metrics.names == ["inference_frames"] and model.metrics["inference_frames"] == 5
    model.map(akq.AKD1000())
    model.forward(x)
    performance = akq.Performance(model)
    metrics = model.metrics
    assert metrics.names == ["inference_frames", "inference_clk", "fps"]
    assert metrics["inference_clk"] == round(performance.clocks(5)) and metrics["fps"] == performance.frames_per_s
    with pytest.raises(KeyError, match="inference_clk"):
        akq.Model().metrics["inference_clk"]


def test_from_dict_refuses_what_is_not_akida_1():
    data = build(akq).to_dict()
    with pytest.raises(LayerError, match="akida '9.9'"):
        akq.Model.from_dict({**data, "Akida version": "9.9"})
    data["layers"][1]["parameters"]["layer_type"] = "Dense2D"
    with pytest.raises(LayerError, match="layer 'separable_1': layer_type 'Dense2D' is not an Akida 1.0 layer"):
        akq.Model.from_dict(data)
    with pytest.raises(LayerError, match="JSON"):
        akq.Model.from_json("{not json")
