"""Edge learning without the reference: the API, seeded compile, and every refusal as a typed error.

Bit-exactness with akida is tested in tests/test_learning_akida.py.
"""

import numpy as np
import pytest

import akq
from akq.errors import InputError, LayerError, LearningError, LearningStateError


def learner(units=6, inputs=(1, 1, 32), input_bits=1, **layer):
    parameters = dict(weights_bits=1, activation=False) | layer
    return akq.Model([akq.InputData(inputs, input_bits=input_bits), akq.FullyConnected(units, **parameters)])


def spikes(count, shape=(1, 1, 32), seed=0):
    return (np.random.default_rng(seed).random((count, *shape)) < 0.5).astype(np.uint8)


def test_compile_draws_num_weights_ones_per_unit_from_the_seed():
    first, second, other = learner(), learner(), learner()
    for model, seed in ((first, 7), (second, 7), (other, 8)):
        model.compile(akq.AkidaUnsupervised(5, num_classes=3, initial_plasticity=0.5), seed=seed)
    weights = first.layers[-1].get_variable("weights")
    assert set(np.unique(weights)) == {0, 1} and (weights.sum(axis=2) == 5).all()
    np.testing.assert_array_equal(weights, second.layers[-1].get_variable("weights"))
    assert (weights != other.layers[-1].get_variable("weights")).any()
    np.testing.assert_array_equal(first.layers[-1].get_variable("thswap"), np.full(6, 3, np.int32))  # round(2.5)
    np.testing.assert_array_equal(first.layers[-1].get_variable("threshold_learning"), np.zeros(6, np.int32))
    assert first.learning == akq.AkidaUnsupervised(5, num_classes=3, initial_plasticity=0.5)


def test_fit_learns_labels_and_predict_classes_reads_them_back():
    model = learner(units=2)
    model.compile(akq.AkidaUnsupervised(8, num_classes=2), seed=1)
    patterns = np.zeros((2, 1, 1, 32), np.uint8)
    patterns[0, ..., :16], patterns[1, ..., 16:] = 1, 1
    for _ in range(4):
        outputs = model.fit(patterns, [0, 1])
    assert outputs.shape == (2, 1, 1, 2) and outputs.dtype == np.int32
    np.testing.assert_array_equal(model.predict_classes(patterns, num_classes=2), [0, 1])
    np.testing.assert_array_equal(model.forward(patterns).reshape(2, 2), [[8, 0], [0, 8]])


def test_learning_variables_are_settable_and_listed():
    model = learner()
    layer = model.layers[-1]
    assert "thswap" not in layer.variables
    model.compile(akq.AkidaUnsupervised(4))
    assert layer.variables[-2:] == ["threshold_learning", "thswap"]
    layer.set_variable("thswap", np.arange(6, dtype=np.int32))
    np.testing.assert_array_equal(layer.get_variable("thswap"), np.arange(6))
    with pytest.raises(LayerError, match="must be int32"):
        layer.set_variable("threshold_learning", np.zeros(6, np.int64))
    with pytest.raises(LayerError, match="shape"):
        layer.set_variable("thswap", np.zeros(5, np.int32))


def test_add_classes_keeps_the_learned_units():
    model = learner(units=4)
    model.compile(akq.AkidaUnsupervised(6, num_classes=2))
    model.fit(spikes(6), [0, 1, 0, 1, 0, 1])
    before = {name: model.layers[-1].get_variable(name) for name in ("weights", "thswap", "threshold_learning")}
    model.add_classes(2, seed=3)
    layer = model.layers[-1]
    assert model.output_shape == (1, 1, 8) and model.learning.num_classes == 4
    np.testing.assert_array_equal(layer.get_variable("weights")[..., :4], before["weights"])
    assert (layer.get_variable("weights")[..., 4:].sum(axis=2) == 6).all()
    np.testing.assert_array_equal(layer.get_variable("thswap")[4:], [6] * 4)
    np.testing.assert_array_equal(layer.get_variable("threshold_learning")[:4], before["threshold_learning"])
    model.fit(spikes(2), 3)


@pytest.mark.parametrize("model, match", [
    (akq.Model([akq.InputData((1, 1, 32), input_bits=1)]), "at least two layers"),
    (akq.Model([akq.InputData((4, 4, 2), input_bits=1), akq.Convolutional((3, 3), 4, activation=False)]),
     "only a FullyConnected last layer learns"),
    (learner(weights_bits=2), "weights_bits=2; only 1-bit weights learn"),
    (learner(activation=True), "has an activation"),
    (learner(input_bits=4), "4-bit; only binary inputs learn"),
    (akq.Model([akq.InputData((1, 1, 8), input_bits=4), akq.FullyConnected(16, weights_bits=2, act_bits=2),
                akq.FullyConnected(4, weights_bits=1, activation=False)]), "2-bit; only binary inputs learn"),
])
def test_unlearnable_models_are_refused(model, match):
    with pytest.raises(LearningError, match=match):
        model.compile(akq.AkidaUnsupervised(4))


@pytest.mark.parametrize("arguments, match", [
    (dict(num_weights=33), "num_weights=33 must be in \\[1, 32\\], the layer's fan-in"),
    (dict(num_weights=4, num_classes=4), "6 units cannot be split evenly into num_classes=4"),
])
def test_optimizers_beyond_the_layer_are_refused(arguments, match):
    with pytest.raises(LearningError, match=match):
        learner().compile(akq.AkidaUnsupervised(**arguments))


@pytest.mark.parametrize("arguments", [dict(num_weights=0), dict(num_weights=2.5), dict(num_weights=3, num_classes=0),
                                       dict(num_weights=3, initial_plasticity=1.5),
                                       dict(num_weights=3, min_plasticity=-0.1),
                                       dict(num_weights=3, learning_competition=float("nan")),
                                       dict(num_weights=3, plasticity_decay="0.2")])
def test_bad_optimizer_arguments_are_refused(arguments):
    with pytest.raises(LearningError):
        akq.AkidaUnsupervised(**arguments)


def test_learning_in_the_wrong_state_is_refused():
    model = learner()
    with pytest.raises(LearningStateError, match="not compiled for learning"):
        model.fit(spikes(1), 0)
    with pytest.raises(LearningStateError, match="not compiled for learning"):
        model.add_classes(1)
    with pytest.raises(LearningError, match="AkidaUnsupervised optimizer"):
        model.compile("akida")
    model.compile(akq.AkidaUnsupervised(4, num_classes=3))
    with pytest.raises(LearningStateError, match="already compiled"):
        model.compile(akq.AkidaUnsupervised(4))
    with pytest.raises(LayerError, match="compiled for learning"):
        model.add(akq.FullyConnected(2))


def test_bad_labels_and_arguments_of_fit_are_refused_before_learning():
    model = learner()
    model.compile(akq.AkidaUnsupervised(4, num_classes=3))
    before = model.to_bytes()
    with pytest.raises(LearningStateError, match="label 3 is beyond the 3 classes"):
        model.fit(spikes(3), [0, 1, 3])
    for labels, match in [([0, 1], "2 labels for 3 inputs"), ([0.5, 1, 2], "integers"), (["a"] * 3, "integers")]:
        with pytest.raises(InputError, match=match):
            model.fit(spikes(3), labels)
    with pytest.raises(InputError, match="batch_size"):
        model.fit(spikes(3), 0, batch_size=-1)
    with pytest.raises(InputError, match="input_bits=1 values in \\[0, 1\\]"):
        model.fit(spikes(3) * 2, 0)
    with pytest.raises(InputError, match="num_classes must be an int in \\[0, 6\\]"):
        model.predict_classes(spikes(3), num_classes=7)
    assert model.to_bytes() == before


def test_batches_learn_as_one_sample_after_the_other():
    models = [learner(), learner()]
    for model in models:
        model.compile(akq.AkidaUnsupervised(5, num_classes=2, learning_competition=0.2), seed=4)
    inputs, labels = spikes(9, seed=2), np.arange(9) % 2
    whole = models[0].fit(inputs, labels, batch_size=4)
    one_by_one = np.concatenate([models[1].fit(inputs[i:i + 1], int(labels[i])) for i in range(9)])
    np.testing.assert_array_equal(whole, one_by_one)
    assert models[0].to_bytes() == models[1].to_bytes()
