"""model.map(akq.AKD1000()) against the reference's hw_map of every golden case (docs/spec D.1, D.2, D.5)."""

import collections

import akq
import numpy as np
import pytest
from akq.errors import ArgumentError, HardwareError, LayerError
from golden_cases import akida_model, all_cases

CASES = [case for case in all_cases() if "hw_map" in case.akida_json]


def test_every_golden_case_has_a_hw_map():
    assert len(CASES) == len(all_cases()) == 60


@pytest.mark.parametrize("case", CASES, ids=str)
def test_golden_sequences_and_nps(case):
    reference = case.akida_json["hw_map"]
    model = akida_model(case)
    model.map(akq.AKD1000())
    assert reference["ok"]
    got = [(s.name, s.backend.name, [[layer.name for layer in p.layers] for p in s.passes]) for s in model.sequences]
    assert got == [(s["name"], s["backend"], s["passes"]) for s in reference["sequences"]]
    for name, nps in reference["layers"].items():
        mapping = model.get_layer(name).mapping
        if nps is None:
            assert mapping is None, name
        else:  # NP ids may differ from the reference's; types and filters per NP may not
            assert [(np_.type.name, np_.filters) for np_ in mapping.nps] == [(n["type"], n["filters"]) for n in nps]


@pytest.mark.parametrize("case", [c for c in CASES if any(s["backend"] == "Software"
                                                         for s in c.akida_json["hw_map"]["sequences"])][:8], ids=str)
def test_hw_only_refuses_models_with_software_layers(case):
    model = akida_model(case)
    first_sw = next(s["passes"][0][0] for s in case.akida_json["hw_map"]["sequences"] if s["backend"] == "Software")
    with pytest.raises(HardwareError, match=r"Error when (mapping|programming) layer '") as info:
        model.map(akq.AKD1000(), hw_only=True)
    assert isinstance(info.value, RuntimeError)
    problems = {p.layer for p in akq.check_hardware(model)}
    assert first_sw in problems


def test_all_hardware_golden_cases_map_with_hw_only():
    hw_cases = [c for c in CASES if all(s["backend"] == "Hardware" for s in c.akida_json["hw_map"]["sequences"])]
    assert len(hw_cases) >= 5
    for case in hw_cases:
        model = akida_model(case)
        assert akq.check_hardware(model) == []
        model.map(akq.AKD1000(), hw_only=True)
        assert [s.backend.name for s in model.sequences] == ["Hardware"]


def test_device_description():
    device = akq.AKD1000()
    assert len(device.nps) == 78 and device.hrc == (0, 0, 0)
    roles = collections.Counter(tuple(t.name for t in np_.types) for np_ in device.nps)
    assert roles == {("CNP1", "CNP2"): 54, ("CNP1", "FNP3"): 18, ("CNP1", "FNP2"): 4, ("CNP1",): 2}
    assert len({np_.ident for np_ in device.nps}) == 78
    assert {np_.ident[:2] for np_ in device.nps if akq.device.mapping.NpType.FNP2 in np_.types} == {(4, 1)}


def test_forward_still_works_after_map_and_summary_shows_nps(capsys):
    case = next(c for c in CASES if c.name == "case_0001")
    model = akida_model(case)
    before = model.forward(case.data["inputs"])
    model.map(akq.AKD1000())
    np.testing.assert_array_equal(model.forward(case.data["inputs"]), before)
    text = model.summary()
    assert "HW/conv_1-sepconv_9 (Hardware)" in text and "NPs" in text
    assert "N/A" in text  # the InputConvolutional runs on the HRC
    model.get_layer("sepconv_4").set_variable("threshold", np.ones(12, np.int32))
    assert model.sequences is None and model.get_layer("sepconv_4").mapping is None  # a change clears the mapping


def test_map_rejects_what_is_not_a_device():
    model = akida_model(CASES[0])
    with pytest.raises(ArgumentError, match="akq.AKD1000"):
        model.map("AKD1000")


def test_too_many_nps_for_one_sequence_become_passes_or_an_error():
    model = akq.Model([akq.InputData((64, 256, 64), name="in")])
    for i in range(3):  # 3 x 32 NPs: more than the chip's 78
        model.add(akq.Convolutional((3, 3), 64, name=f"conv_{i}", weights_bits=4, act_bits=4))
    model.map(akq.AKD1000())
    (sequence,) = model.sequences
    assert sequence.backend.name == "Hardware" and len(sequence.passes) == 2
    assert [len(model.get_layer(f"conv_{i}").mapping.nps) for i in range(3)] == [32, 32, 32]
    with pytest.raises(HardwareError, match="cannot be mapped in one hardware sequence"):
        model.map(akq.AKD1000(), hw_only=True)


def ds_cnn():
    layers = [akq.InputConvolutional((49, 10, 1), 5, 64, name="conv_0", kernel_stride=2, weights_bits=8, act_bits=4)]
    layers += [akq.SeparableConvolutional(3, 64, name=f"separable_{i}", weights_bits=4, act_bits=4)
               for i in range(1, 5)]
    layers.append(akq.FullyConnected(33, name="dense_5", weights_bits=4, activation=False))
    return akq.Model(layers)


def chain(shape, layers):
    model = akq.Model([akq.InputData(shape, name="in")])
    for i, (cls, filters) in enumerate(layers):
        model.add(cls(3, filters, name=f"l{i}", weights_bits=4, act_bits=4))
    return model


# measured with akida 2.19.3's default map(AKD1000(), hw_only=True) (mode AllNps): filters per NP per layer
@pytest.mark.parametrize("shape,layers,filters", [
    ((16, 16, 16), [(akq.Convolutional, 64), (akq.Convolutional, 100), (akq.Convolutional, 30)],
     [[3] * 21 + [1], [3] * 33 + [1], [3] * 10]),
    ((16, 16, 16), [(akq.Convolutional, 64), (akq.SeparableConvolutional, 64)], [[2] * 32, [2] * 32]),
    ((64, 16, 16), [(akq.Convolutional, 64), (akq.SeparableConvolutional, 64)], [[4] * 32, [4] * 32]),
])
def test_all_nps_mode_caps_every_layers_filters_per_np_like_akida_2_19(shape, layers, filters):
    model = chain(shape, layers)
    model.map(akq.AKD1000(), mode="all_nps")
    assert [[np_.filters for np_ in layer.mapping.nps] for layer in model.layers[1:]] == filters


def test_all_nps_mode_maps_akidanet_on_the_published_68_nps():
    from published_models import akidanet_layers

    model = akq.Model(akidanet_layers())
    model.map(akq.AKD1000())
    assert akq.device.np_count(model) == 32  # as akida 2.4.0 maps it
    model.map(akq.AKD1000(), mode="all_nps")
    assert akq.device.np_count(model) == 68  # the akida CLI's figure (docs/spec D.7.3) and akida 2.19.3's
    separable = [len(layer.mapping.nps) for layer in model.layers if layer.name.startswith("separable")]
    assert separable == [6, 4, 8, 4, 4, 4, 4, 4, 8, 8]  # 64 filters per NP, as akida 2.19.3 maps them


def test_all_nps_mode_spreads_filters_like_the_published_ds_cnn_mapping():
    model = ds_cnn()
    model.map(akq.AKD1000())
    assert akq.device.np_count(model) == 5  # minimal: one NP per layer (the reference mapper, docs/spec D)
    model.map(akq.AKD1000(), mode="all_nps")
    assert akq.device.np_count(model) == 65  # as the akida CLI reports for DS-CNN KWS (docs/spec D.7)
    for i in range(1, 5):
        assert [np_.filters for np_ in model.get_layer(f"separable_{i}").mapping.nps] == [4] * 16
    assert len({np_.ident for layer in model.layers for np_ in layer.mapping.nps}) == 66  # 65 NPs + HRC
    with pytest.raises(LayerError, match="map mode"):
        model.map(akq.AKD1000(), mode="fast")


def test_program_size_estimate_tracks_the_reference():
    # An estimate (the encoding is not published): median within 20 % of the reference's program_bytes.
    errors = []
    for case in CASES:
        model = akida_model(case)
        model.map(akq.AKD1000())
        reference = {s["name"]: s["program_bytes"] for s in case.akida_json["hw_map"]["sequences"]}
        for sequence in model.sequences:
            if sequence.program_size is None:
                assert reference[sequence.name] is None
            else:
                errors.append(abs(sequence.program_size - reference[sequence.name]) / reference[sequence.name])
    assert len(errors) == 59 and np.median(errors) < 0.2


def random_model(rng):
    """A random small model the engine accepts, with random (possibly unmappable) parameters."""
    c = int(rng.choice([1, 2, 3, 8]))
    size = int(rng.integers(5, 40))
    model = akq.Model([akq.InputData((size, size, c), name="in") if rng.random() < 0.5 else
                       akq.InputConvolutional((size, size, c), int(rng.choice([1, 3, 5])), int(rng.integers(1, 40)),
                                              name="in", weights_bits=int(rng.choice([2, 4, 8])), act_bits=4)])
    for i in range(int(rng.integers(1, 5))):
        d0, d1, _ = model.output_shape
        kind = rng.choice(["conv", "sep", "fc"]) if min(d0, d1) >= 3 else "fc"
        last = rng.random() < 0.2
        if kind == "fc":
            layer = akq.FullyConnected(int(rng.integers(1, 64)), name=f"l{i}", weights_bits=int(rng.choice([2, 4, 8])),
                                       act_bits=4)
        else:
            cls = akq.Convolutional if kind == "conv" else akq.SeparableConvolutional
            pool = rng.choice([akq.PoolType.NoPooling, akq.PoolType.Max, akq.PoolType.Average])
            layer = cls(int(rng.choice([1, 3, 5])) if kind == "conv" else 3, int(rng.integers(1, 300)), name=f"l{i}",
                        kernel_stride=int(rng.choice([1, 2])), padding=rng.choice([akq.Padding.Same, akq.Padding.Valid]),
                        pool_type=pool, pool_size=2 if pool == akq.PoolType.Max else -1,
                        weights_bits=int(rng.choice([2, 4, 8])), act_bits=4)
        try:
            model.add(layer)
        except akq.errors.LayerError:
            break
        if layer._type == akq.LayerType.FullyConnected or last:
            break
    return model


def test_random_models_map_consistently():
    rng = np.random.default_rng(11)
    for _ in range(200):
        model = random_model(rng)
        problems = akq.check_hardware(model)
        try:
            model.map(akq.AKD1000(), hw_only=True)
            assert problems == []
        except HardwareError as error:
            assert problems and str(error) == problems[0].message
        model.map(akq.AKD1000())
        names = [layer.name for s in model.sequences for layer in s.layers]
        assert names == [layer.name for layer in model.layers if layer._type != akq.LayerType.InputData]
        hardware = {layer.name for s in model.sequences if s.backend.name == "Hardware" for layer in s.layers}
        assert hardware == {layer.name for layer in model.layers if layer.mapping is not None}
        if not problems and names:
            assert len(model.sequences) == 1 and model.sequences[0].backend.name == "Hardware"
