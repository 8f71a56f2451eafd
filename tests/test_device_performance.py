"""The cycle-approximate performance model: driven by the engine's event counts, monotone, deterministic."""

import akq
import numpy as np
import pytest
from akq.device.performance import Performance, assumed_activity
from akq.errors import EngineError, InputError

RNG = np.random.default_rng(3)


def conv_model():
    model = akq.Model([
        akq.InputData((32, 32, 8), name="in"),
        akq.Convolutional(3, 32, name="conv", weights_bits=4, act_bits=4),
        akq.SeparableConvolutional(3, 32, name="sep", weights_bits=4, act_bits=4, pool_type=akq.PoolType.Average),
        akq.FullyConnected(10, name="dense", weights_bits=4, activation=False),
    ])
    for layer in model.layers[1:]:
        for name in layer.variables:
            value = layer.get_variable(name)
            if name.startswith("weights"):
                value = RNG.integers(-7, 8, value.shape).astype(np.int8)
            elif name == "threshold":
                value = np.full(value.shape, 40, np.int32)
            else:
                value = np.full(value.shape, 4.0, np.float32)
            layer.set_variable(name, value)
    model.map(akq.AKD1000())
    return model


def run(model, inputs):
    model.forward(inputs)
    return Performance(model)


def test_sparser_inputs_take_fewer_cycles_and_less_energy():
    model = conv_model()
    dense = RNG.integers(1, 16, (4, 32, 32, 8)).astype(np.uint8)
    sparse = dense * (RNG.random(dense.shape) < 0.1)
    p_dense, p_sparse = run(model, dense), run(model, sparse)
    assert p_sparse.layers[0].input_events < p_dense.layers[0].input_events
    assert p_sparse.layers[0].cycles < p_dense.layers[0].cycles
    assert p_sparse.frame_cycles < p_dense.frame_cycles
    assert p_sparse.dynamic_energy_j < p_dense.dynamic_energy_j
    # the layer figures are the engine's counts per frame
    stats = model.statistics
    assert p_sparse.layers[0].input_events == stats.layers[1].input_events / 4
    assert p_sparse.layers[0].synaptic_ops == stats.layers[1].synaptic_ops / 4


def test_deterministic():
    model = conv_model()
    inputs = RNG.integers(0, 16, (2, 32, 32, 8)).astype(np.uint8)
    first, second = run(model, inputs), run(model, inputs)
    assert first.layers == second.layers
    assert (first.frame_cycles, first.pipeline_cycles, first.dynamic_energy_j) == (
        second.frame_cycles, second.pipeline_cycles, second.dynamic_energy_j)


def test_report_fields_and_pipelining():
    model = conv_model()
    p = Performance(model, clock_hz=100e6, activity=assumed_activity(model, 0.5))
    assert p.nps == sum(layer.nps for layer in p.layers) == 3
    assert p.pipeline_cycles == max(layer.cycles for layer in p.layers)
    assert p.frame_cycles == pytest.approx(sum(layer.cycles for layer in p.layers))
    assert p.clocks(10) == pytest.approx(p.frame_cycles + 9 * p.pipeline_cycles)
    assert p.latency_s == pytest.approx(p.frame_cycles / 100e6)
    assert p.frames_per_s == pytest.approx(100e6 / p.pipeline_cycles)
    assert p.static_energy_j > 0 and p.dynamic_energy_j > 0 and p.program_bytes > 0
    assert p.bottleneck_layer in {"conv", "sep", "dense"}
    assert all(layer.bottleneck_np is not None for layer in p.layers)
    assert "frames/s" in str(p)
    more = Performance(model, activity=assumed_activity(model, 0.2))
    assert more.frame_cycles > Performance(model, activity=assumed_activity(model, 0.5)).frame_cycles


def test_software_layers_cost_no_chip_cycles():
    spec = conv_model().spec
    spec.layers[1].weights_bits = 8  # 8-bit convolution weights: the layer runs in software
    model = akq.Model._from_spec(spec)
    model.map(akq.AKD1000())
    p = Performance(model, activity=assumed_activity(model, 0.5))
    assert p.layers[0].backend == "Software" and p.layers[0].cycles == 0 and p.layers[0].nps == 0
    assert p.layers[1].backend == "Hardware" and p.layers[1].cycles > 0


def test_needs_a_mapping_and_activity():
    model = conv_model()
    model.get_layer("conv").set_variable("threshold", np.full(32, 41, np.int32))  # clears mapping and stats
    with pytest.raises(EngineError, match="map"):
        Performance(model, activity=assumed_activity(model, 0.5))
    model.map(akq.AKD1000())
    with pytest.raises(EngineError, match="forward"):
        Performance(model)
    with pytest.raises(InputError, match="no activity for layer 'sep'"):
        Performance(model, activity={"conv": (1, 1)})
    with pytest.raises(InputError):
        assumed_activity(model, 1.0)


def test_per_layer_chart(tmp_path):
    from akq.plot import plot_performance

    model = conv_model()
    p = Performance(model, activity=assumed_activity(model, 0.5))
    path = plot_performance(p, tmp_path / "charts" / "performance.png")
    assert path.exists() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
