"""akq's AKD1000 mapper against akida 2.4.0's on random models (tests/device_random_models.py).

Each model is mapped with hw_only=True by both: they must give the same sequences, passes, NP types and
filters per NP, or refuse at the same layer for the same rule (akq's wording is its own). The reference
runs in a child process with a timeout (its mapper hangs on some wide inputs); akq must answer every model
(bench/device_differential.py runs thousands of models offline).
"""

import pytest

import device_random_models as drm

akida = pytest.importorskip("akida", reason="the differential mapping test needs akida 2.4.0 "
                                             "(pip install akida==2.4.0)")

SEED, COUNT = 20261201, 400


def mapped_by_both(models):
    """(model, akida's outcome, akq's outcome) for each of `models`."""
    if akida.__version__ != "2.4.0":
        pytest.skip(f"the reference is akida 2.4.0, installed: {akida.__version__}")
    with drm.AkidaWorker(timeout=5.0) as worker:
        return [(model, worker.outcome(model), drm.akq_outcome(model)) for model in models]


def assert_all_agree(outcomes):
    differing = [(model, drm.difference(reference, ours)) for model, reference, ours in outcomes]
    differing = [f"model {model}: {why}" for model, why in differing if why is not None]
    assert not differing, "\n".join(differing)


@pytest.fixture(scope="module")
def outcomes():
    return mapped_by_both(drm.random_models(SEED, COUNT))


def test_akq_maps_like_the_reference(outcomes):
    assert_all_agree(outcomes)


def test_single_layer_capacity_as_the_reference():
    outcomes = mapped_by_both(drm.capacity_models(SEED, 300))
    assert sum(1 for _, r, _ in outcomes if "nps" in r and len(r["nps"]["l1"]) > 1) >= 60
    assert_all_agree(outcomes)


def test_the_models_cover_the_space(outcomes):
    kinds = [next(iter(reference)) for _, reference, _ in outcomes]
    assert kinds.count("sequences") >= COUNT // 5 and kinds.count("refused") >= COUNT // 5
    multi_np = sum(1 for _, r, _ in outcomes if "nps" in r and any(len(n) > 1 for n in r["nps"].values()))
    assert multi_np >= COUNT // 25
    assert all("timeout" not in ours for _, _, ours in outcomes)
