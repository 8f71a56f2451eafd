"""Shared by the engine tests: the SIMD levels this machine runs and a fixture running a test on each."""

import pytest
from akq import _core

LEVELS = ["scalar"] + (["avx2"] if _core.best_simd_level() == "avx2" else [])


@pytest.fixture(params=LEVELS)
def simd_level(request):
    _core.set_simd_level(request.param)
    yield request.param
    _core.set_simd_level("auto")
