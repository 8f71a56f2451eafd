"""Hand-built integer models: the layer constructors, dims, variables and their checks (docs/spec C.1, C.3, C.8)."""

import numpy as np
import pytest

import akq
from akq.errors import LayerError
from golden_cases import akida_layer, all_cases, akida_model


@pytest.mark.parametrize("case", all_cases(), ids=str)
def test_golden_layer_dims_follow_from_parameters(case):
    model = akida_model(case)
    for layer, desc in zip(model.layers, case.akida_layers):
        assert list(layer.input_dims) == desc["input_dims"]
        assert list(layer.output_dims) == desc["output_dims"]
        for name, value in case.variables(model.layers.index(layer)).items():
            np.testing.assert_array_equal(layer.get_variable(name), value)


def test_parameters_mirror_the_reference():
    model = akq.Model([
        akq.InputConvolutional((32, 30, 3), (3, 3), 8, name="in", weights_bits=8, act_bits=4, padding_value=-3,
                               pool_type=akq.PoolType.Max, pool_size=(2, 2)),
        akq.SeparableConvolutional((5, 5), 16, name="sep", kernel_stride=(2, 1), padding=akq.Padding.Valid),
        akq.FullyConnected(10, name="fc", weights_bits=4, activation=False),
    ])
    p = model.get_layer("in").parameters
    assert (p.layer_type, p.input_shape, p.kernel_size, p.filters, p.weights_bits, p.act_bits, p.padding_value) == (
        akq.LayerType.InputConvolutional, (32, 30, 3), (3, 3), 8, 8, 4, -3)
    assert p.pool_stride == (-1, -1)  # stored as given; the engine uses pool_size
    assert model.get_layer("in").output_dims == (16, 15, 8)
    sep = model.get_layer("sep")
    assert sep.parameters.weights_bits == 2  # the reference's default for separable layers
    assert sep.output_dims == (6, 11, 16)
    assert sep.get_variable("weights").shape == (5, 5, 8, 1)
    assert sep.get_variable("weights_pw").shape == (1, 1, 8, 16)
    fc = model.get_layer("fc")
    assert fc.parameters.units == 10 and fc.get_variable("weights").shape == (1, 1, 6 * 11 * 16, 10)
    assert model.output_shape == (1, 1, 10)


@pytest.mark.parametrize("bits, bad", [(1, 2), (1, -1), (2, 2), (4, -8), (4, 8)])
def test_weight_ranges_are_checked(bits, bad):
    model = akq.Model([akq.InputData((4, 4, 2)), akq.Convolutional(3, 2, name="c", weights_bits=bits)])
    weights = np.zeros((3, 3, 2, 2), np.int8)
    weights[1, 1, 0, 0] = bad
    with pytest.raises(LayerError, match="'c'.*weights value"):
        model.get_layer("c").set_variable("weights", weights)
    np.testing.assert_array_equal(model.get_layer("c").get_variable("weights"), 0)  # unchanged


def test_variable_dtype_shape_and_step_checks():
    model = akq.Model([akq.InputData((1, 1, 8)), akq.FullyConnected(3, name="fc")])
    fc = model.get_layer("fc")
    with pytest.raises(LayerError, match="int32, got float32"):
        fc.set_variable("threshold", np.zeros(3, np.float32))
    with pytest.raises(LayerError, match=r"shape \(3,\)"):
        fc.set_variable("threshold", np.zeros(4, np.int32))
    with pytest.raises(LayerError, match="at least 1/16"):
        fc.set_variable("act_step", np.full(3, 0.06, np.float32))
    with pytest.raises(LayerError, match="finite"):
        fc.set_variable("act_step", np.array([1, np.nan, 1], np.float32))
    with pytest.raises(LayerError, match="no variable 'weights_pw'"):
        fc.get_variable("weights_pw")


@pytest.mark.parametrize("layer, rule", [
    (lambda: akq.Convolutional(4, 8), "odd"),
    (lambda: akq.Convolutional(1, 8, kernel_stride=2), "kernel_stride larger"),
    (lambda: akq.Convolutional(3, 8, pool_type=akq.PoolType.Max, pool_size=2, pool_stride=3), "pool_stride"),
    (lambda: akq.Convolutional(3, 8, pool_type=akq.PoolType.Average, pool_size=2), "global"),
    (lambda: akq.Convolutional(3, 8, weights_bits=3), "1, 2, 4 or 8"),
    (lambda: akq.Convolutional(3, 8, act_bits=3), "act_bits"),
    (lambda: akq.InputData((4, 4, 2)), "first layer"),
])
def test_construction_rules(layer, rule):
    model = akq.Model([akq.InputData((8, 8, 2))])
    with pytest.raises(LayerError, match=rule):
        model.add(layer())


def test_chain_rules():
    with pytest.raises(LayerError, match="first layer"):
        akq.Model([akq.Convolutional(3, 8)])
    with pytest.raises(LayerError, match="more than 4 bits"):
        akq.Model([akq.InputData((4, 4, 2), input_bits=8), akq.Convolutional(3, 8)])
    with pytest.raises(LayerError, match="no activation"):
        akq.Model([akq.InputData((4, 4, 2)), akq.Convolutional(3, 8, activation=False), akq.Convolutional(3, 8)])
    model = akq.Model([akq.InputData((4, 4, 2)), akq.Convolutional(3, 8, name="x")])
    with pytest.raises(LayerError, match="already used"):
        model.add(akq.Convolutional(3, 8, name="x"))
    with pytest.raises(LayerError, match="valid"):
        model.add(akq.Convolutional(7, 8, padding=akq.Padding.Valid))


def test_golden_layer_rebuilds_with_same_parameters():
    case = all_cases()[0]
    layer = akida_layer(case.akida_layers[0])
    assert layer.parameters.padding_value == case.akida_layers[0]["padding_value"]


# -- careless and hostile arguments (issue 13): typed errors naming the layer and the argument ------
def test_keras_spellings_of_padding_and_pool_type_are_accepted():
    layer = akq.Convolutional(3, 4, padding="valid", pool_type="max", pool_size=2)
    assert (layer.parameters.padding, layer.parameters.pool_type) == (akq.Padding.Valid, akq.PoolType.Max)
    assert akq.SeparableConvolutional(3, 4, padding="SAME", pool_type="average").parameters.pool_type == \
        akq.PoolType.Average
    assert akq.Convolutional(3, 4, pool_type=None).parameters.pool_type == akq.PoolType.NoPooling


@pytest.mark.parametrize("make, fragment", [
    (lambda: akq.Convolutional(3, 4, name="c", padding="full"), "Convolutional 'c': padding must be one of"),
    (lambda: akq.Convolutional(3, 4, pool_type="min"), "pool_type must be one of"),
    (lambda: akq.InputData((8, 8)), r"input_shape must be 3 ints .*\(1, 1, N\)"),
    (lambda: akq.InputData((8.5, 8, 1)), "input_shape must be an int, got 8.5"),
    (lambda: akq.InputData((True, 8, 1)), "must be an int, got True"),
    (lambda: akq.Convolutional(3, 2**40), "filters=1099511627776 is beyond the int32 range"),
    (lambda: akq.Convolutional(2**31, 4), "kernel_size=2147483648 is beyond"),
    (lambda: akq.Convolutional((3, 3, 3), 4), "kernel_size must be an int or a pair"),
    (lambda: akq.FullyConnected("10", name="fc"), "FullyConnected 'fc': units must be an int"),
    (lambda: akq.FullyConnected(10, activation="no"), "activation must be True or False"),
    (lambda: akq.InputConvolutional((8, 8, 1), 3, 4, padding_value=1.5), "padding_value must be an int"),
    (lambda: akq.Convolutional(3, 4, name=b"\xff"), "name must be a str"),
    (lambda: akq.Convolutional(3, 4, name="a\udcff"), "not valid Unicode"),
])
def test_bad_constructor_arguments_are_layer_errors(make, fragment):
    with pytest.raises(LayerError, match=fragment):
        make()


def test_name_none_is_an_automatic_name():
    model = akq.Model([akq.InputData((4, 4, 1), name=None), akq.FullyConnected(2, name=None)])
    assert [layer.name for layer in model.layers] == ["inputdata_0", "fullyconnected_1"]


def test_get_layer_index_out_of_range_is_a_layer_error():
    model = akq.Model([akq.InputData((4, 4, 1), name="in"), akq.FullyConnected(2, name="fc")])
    assert model.get_layer(-1).name == "fc" and model.get_layer(np.int64(0)).name == "in"
    for index in (2, 99, -3):
        with pytest.raises(LayerError, match=f"layer index {index} is out of range: the model has 2 layers"):
            model.get_layer(index)
    for name in (True, None, np.array(["in"])):
        with pytest.raises(LayerError, match="no layer named"):
            model.get_layer(name)


def test_a_failed_model_releases_its_layers():
    good = akq.InputData((4, 4, 1), name="good")
    with pytest.raises(LayerError, match="can only be the first layer"):
        akq.Model([good, akq.InputData((4, 4, 1))])
    assert akq.Model([good]).layers == [good]
    with pytest.raises(akq.errors.ArgumentError, match="list of akq layers, got int"):
        akq.Model(layers=5)
    with pytest.raises(LayerError, match="akq layers .*got str"):
        akq.Model(["junk"])


def test_check_hardware_and_map_name_what_they_expect():
    with pytest.raises(akq.errors.ArgumentError, match="check_hardware expects an akq.Model, got NoneType"):
        akq.check_hardware(None)
    with pytest.raises(TypeError, match="akq.AKD1000"):  # ArgumentError keeps TypeError as its base
        akq.Model([akq.InputData((4, 4, 1))]).map(None)


def test_variable_names_of_other_types_are_layer_errors():
    fc = akq.Model([akq.InputData((4, 4, 1)), akq.FullyConnected(2, name="fc")]).get_layer("fc")
    for name in (np.array([], np.uint8), None, 3):
        with pytest.raises(LayerError, match="has no variable"):
            fc.get_variable(name)


def test_found_by_the_property_test():
    """from_json of bytes that are not UTF-8, predict_classes on an empty batch (tests/test_api_hypothesis.py)."""
    with pytest.raises(LayerError, match="from_json expects the JSON text"):
        akq.Model.from_json(b"\x80")
    model = akq.Model([akq.InputData((4, 4, 1)), akq.FullyConnected(3, activation=False)])
    model.get_layer(1).set_variable("act_step", np.ones(3, np.float32))
    assert model.predict_classes(np.zeros((0, 4, 4, 1), np.uint8)).shape == (0,)
