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
