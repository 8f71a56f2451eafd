"""The cycle/energy model's calibration against BrainChip's published AKD1000 figures, pinned.

Both published models run their calibration workload (tests/published_models.py: synthetic weights, half
the activations zero, mapped on all NPs as the published runs were): the estimates must stay within 5 % of
the published clocks and energy, and equal the values pinned here, so that changing a calibrated constant
of csrc/akq/device/performance.hpp (or the mapping it depends on) cannot pass silently: update the pins
together with the constants, and keep them within the published band.
"""

import pytest

from akq import _core
from published_models import PUBLISHED, published_run

# name -> (NPs, clocks for the published frame count, board energy per frame mJ, dynamic energy per frame mJ)
PINNED = {
    "AkidaNet 0.5/224": (68, 44_183_794.94840616, 24.116821802635517, 2.5683613786),
    "DS-CNN KWS": (65, 90_961.4140625, None, None),
}


@pytest.mark.parametrize("name", list(PINNED))
def test_estimates_match_the_published_figures(name):
    published, (nps, clocks, energy_mj, dynamic_mj) = PUBLISHED[name], PINNED[name]
    performance = published_run(name)
    frames = published["frames"]
    ours = performance.clocks(frames)
    assert performance.nps == published["nps"] == nps
    assert ours == pytest.approx(published["clocks"], rel=0.05)
    assert ours == pytest.approx(clocks, rel=1e-9)
    if energy_mj is not None:  # the board's energy over the published run: dynamic + its floor power
        board = (performance.dynamic_energy_j + _core.STATIC_POWER_W * ours / performance.clock_hz / frames) * 1e3
        assert board == pytest.approx(published["energy_mj"], rel=0.05)
        assert performance.dynamic_energy_j * 1e3 == pytest.approx(published["dynamic_mj"], rel=0.05)
        assert (board, performance.dynamic_energy_j * 1e3) == pytest.approx((energy_mj, dynamic_mj), rel=1e-9)
        assert frames * performance.clock_hz / ours == pytest.approx(published["fps"], rel=0.05)
