"""Engine API: input validation, predict/evaluate contracts, engine errors, statistics (docs/spec C.1, C.7)."""

import numpy as np
import pytest

import akq
from akq.errors import AkqError, EngineError, InputError

from test_engine_reference import random_weights, reference_activation, reference_layer


def conv_model(activation=False):
    rng = np.random.default_rng(0)
    model = akq.Model([akq.InputData((6, 5, 3), input_bits=4, name="in"),
                       akq.Convolutional(3, 4, name="conv", weights_bits=4, act_bits=2),
                       akq.FullyConnected(3, name="fc", weights_bits=4, activation=activation)])
    for layer in model.layers[1:]:
        layer.set_variable("weights", random_weights(rng, 4, layer.get_variable("weights").shape))
    model.get_layer("conv").set_variable("threshold", np.full(4, 5, np.int32))
    return model


def inputs(n=4, seed=1):
    x = np.random.default_rng(seed).integers(0, 16, (n, 6, 5, 3)).astype(np.uint8)
    x[x < 6] = 0
    return x


@pytest.mark.parametrize("bad", [np.float32, np.int8, np.int32, np.uint16])
def test_wrong_dtype_is_refused(bad):
    with pytest.raises(InputError, match=f"uint8, got {np.dtype(bad).name}"):
        conv_model().forward(inputs().astype(bad))


@pytest.mark.parametrize("shape", [(4, 6, 5), (4, 5, 6, 3), (4, 6, 5, 2), (6, 5, 3), (4, 90)])
def test_wrong_shape_is_refused(shape):
    with pytest.raises(InputError, match=r"the model expects \(N, 6, 5, 3\)"):
        conv_model().forward(np.zeros(shape, np.uint8))


def test_not_an_array_is_refused():
    with pytest.raises(InputError, match="numpy array"):
        conv_model().forward([[1, 2, 3]])


def test_flat_inputs_accept_batch_by_n():
    model = akq.Model([akq.InputData((1, 1, 7)), akq.FullyConnected(2, weights_bits=2, activation=False)])
    model.layers[1].set_variable("weights", np.ones((1, 1, 7, 2), np.int8))
    x = np.arange(14, dtype=np.uint8).reshape(2, 7) % 16
    np.testing.assert_array_equal(model.forward(x), model.forward(x.reshape(2, 1, 1, 7)))
    assert model.forward(x).shape == (2, 1, 1, 2)


def test_input_bits_are_enforced():
    model = conv_model()
    x = inputs()
    x[2, 1, 1, 1] = 16
    with pytest.raises(InputError, match=r"input value 16 \(sample 2\).*input_bits=4.*\[0, 15\]"):
        model.forward(x)


def test_non_contiguous_and_empty_batches_work():
    model, x = conv_model(), inputs(6)
    np.testing.assert_array_equal(model.predict(x[::2]), model.predict(np.ascontiguousarray(x[::2])))
    assert model.forward(x[:0]).shape == (0, 1, 1, 3)


def test_predict_needs_a_last_layer_without_activation():
    with pytest.raises(EngineError, match="'fc' has an activation.*forward"):
        conv_model(activation=True).predict(inputs())
    assert isinstance(EngineError("x"), RuntimeError)  # what the reference raised


def test_predict_is_float32_difference_over_the_float_step():
    model = conv_model()
    fc = model.get_layer("fc")
    fc.set_variable("threshold", np.array([3, -7, 2**31 - 1], np.int32))
    fc.set_variable("act_step", np.array([0.3, 1.7, 5.0], np.float32))
    x = inputs()
    p = model.forward(x).astype(np.int64)
    expected = (p - fc.get_variable("threshold")).astype(np.float32) / fc.get_variable("act_step")
    np.testing.assert_array_equal(model.predict(x).view(np.int32), expected.view(np.int32))


def test_evaluate_is_top1_accuracy():
    model, x = conv_model(), inputs(8)
    predicted = model.predict(x).reshape(8, 3).argmax(axis=1)
    labels = predicted.copy()
    labels[:2] = (labels[:2] + 1) % 3
    assert model.evaluate(x, labels) == pytest.approx(6 / 8)
    with pytest.raises(InputError, match="one label per input"):
        model.evaluate(x, labels[:3])


@pytest.mark.parametrize("threads", [0, -1, 1.5, "2"])
def test_bad_thread_counts_are_refused(threads):
    with pytest.raises(InputError, match="threads"):
        conv_model().forward(inputs(), threads=threads)


@pytest.mark.parametrize("step", [2.0**24, 2.0**25, 2.0**30])
def test_a_step_truncating_to_a_multiple_of_2_28_is_an_error_not_a_crash(step):
    model = conv_model()
    model.get_layer("conv").set_variable("act_step", np.full(4, step, np.float32))
    with pytest.raises(EngineError, match="'conv'.*act_step.*2\\^28.*below 2\\^24"):
        model.forward(inputs())


def test_changing_a_variable_recompiles():
    model, x = conv_model(), inputs()
    before = model.forward(x)
    fc = model.get_layer("fc")
    fc.set_variable("weights", (-fc.get_variable("weights")).astype(np.int8))
    np.testing.assert_array_equal(model.forward(x), -before)


def test_statistics_before_forward_is_an_error():
    with pytest.raises(EngineError, match="run model.forward"):
        conv_model().statistics


def window_events(x, kernel, stride, same):
    """Sum over output positions of the non-zero inputs under the window (= sum over events of coverage)."""
    from test_engine_reference import pad

    xp, o0, o1 = pad((x != 0).astype(np.int64), kernel, stride, same, 0)
    return sum(xp[:, i * stride[0]:i * stride[0] + kernel[0], j * stride[1]:j * stride[1] + kernel[1]].sum()
               for i in range(o0) for j in range(o1))


def test_statistics_count_events_and_synaptic_operations():
    model, x = conv_model(activation=True), inputs(5)
    model.forward(x, threads=2)
    stats = model.statistics
    conv, fc = model.get_layer("conv"), model.get_layer("fc")
    hidden = reference_activation(conv, reference_layer(conv, x))
    out = reference_activation(fc, reference_layer(fc, hidden))
    assert [s.name for s in stats.layers] == ["in", "conv", "fc"]
    s_in, s_conv, s_fc = stats.layers
    assert (s_in.samples, s_in.input_size, s_in.input_events) == (5, 90, np.count_nonzero(x))
    assert s_in.synaptic_ops == 0 and s_in.output_events == np.count_nonzero(x)
    assert s_conv.input_events == np.count_nonzero(x)
    assert s_conv.synaptic_ops == 4 * window_events(x, (3, 3), (1, 1), True)
    assert s_conv.output_events == np.count_nonzero(hidden)
    assert s_fc.input_size == 6 * 5 * 4 and s_fc.input_events == np.count_nonzero(hidden)
    assert s_fc.synaptic_ops == 3 * np.count_nonzero(hidden) and s_fc.output_events == np.count_nonzero(out)
    assert s_conv.sparsity == pytest.approx(1 - np.count_nonzero(x) / x.size)
    text = str(stats)
    assert "conv" in text and "sparsity" in text and str(s_conv.synaptic_ops) in text


def test_statistics_of_a_separable_layer_count_depthwise_and_pointwise_operations():
    rng = np.random.default_rng(3)
    model = akq.Model([akq.InputData((5, 6, 4)), akq.SeparableConvolutional((3, 3), 7, kernel_stride=(2, 1),
                                                                           weights_bits=4)])
    sep = model.layers[1]
    sep.set_variable("weights", random_weights(rng, 4, (3, 3, 4, 1)))
    x = rng.integers(0, 16, (3, 5, 6, 4)).astype(np.uint8)
    x[x < 8] = 0
    model.forward(x)
    from test_engine_reference import depthwise, pad

    xp, o0, o1 = pad(x, (3, 3), (2, 1), True, 0)
    d = depthwise(xp, sep.get_variable("weights")[::-1, ::-1], (2, 1), o0, o1)
    expected = window_events(x, (3, 3), (2, 1), True) + 7 * np.count_nonzero(d)
    assert model.statistics.layers[1].synaptic_ops == expected


def test_statistics_of_layers_fed_by_an_activation_count_border_and_strided_fanouts():
    # The engine counts a layer's input events where the previous layer activates; 'same' borders,
    # strides and pooling give its cells unequal fan-outs.
    rng = np.random.default_rng(4)
    model = akq.Model([akq.InputData((7, 6, 3), input_bits=4),
                       akq.Convolutional(3, 8, weights_bits=4, act_bits=4, pool_type=akq.PoolType.Max,
                                         pool_size=(2, 2), padding=akq.Padding.Same),
                       akq.SeparableConvolutional((3, 3), 5, kernel_stride=(2, 1), weights_bits=4, act_bits=2),
                       akq.Convolutional(3, 4, weights_bits=4, activation=False)])
    conv, sep, last = model.layers[1:]
    for layer in (conv, sep, last):
        layer.set_variable("weights", random_weights(rng, 4, layer.get_variable("weights").shape))
    sep.set_variable("weights_pw", random_weights(rng, 4, sep.get_variable("weights_pw").shape))
    conv.set_variable("threshold", np.full(8, 3, np.int32))
    x = rng.integers(0, 16, (6, 7, 6, 3)).astype(np.uint8)
    model.forward(x, threads=2)
    from test_engine_reference import depthwise, pad

    hidden = akq.Model(model.layers[:2]).forward(x)
    middle = akq.Model(model.layers[:3]).forward(x)
    stats = model.statistics.layers
    xp, o0, o1 = pad(hidden, (3, 3), (2, 1), True, 0)
    d = depthwise(xp, sep.get_variable("weights")[::-1, ::-1], (2, 1), o0, o1)
    assert stats[2].input_events == np.count_nonzero(hidden)
    assert stats[2].synaptic_ops == window_events(hidden, (3, 3), (2, 1), True) + 5 * np.count_nonzero(d)
    assert stats[3].input_events == np.count_nonzero(middle)
    assert stats[3].synaptic_ops == 4 * window_events(middle, (3, 3), (1, 1), True)


def test_every_engine_error_is_an_akq_error():
    assert issubclass(InputError, AkqError) and issubclass(InputError, ValueError)


def test_simd_level_can_be_forced_and_unknown_levels_are_refused():
    from akq import _core
    from akq.errors import LayerError

    try:
        _core.set_simd_level("scalar")
        assert _core.simd_level() == "scalar"
        with pytest.raises(LayerError, match="unknown SIMD level 'avx9'"):
            _core.set_simd_level("avx9")
        assert _core.simd_level() == "scalar"
    finally:
        _core.set_simd_level("auto")
    assert _core.simd_level() == _core.best_simd_level()
