"""Shared by the engine tests: the SIMD families this machine runs and a fixture running a test on each."""

import pytest
from akq import _core

LEVELS = _core.supported_simd_levels()


@pytest.fixture(params=LEVELS)
def simd_level(request):
    _core.set_simd_level(request.param)
    assert _core.simd_level() == request.param, _core.simd_fallback_note()  # passed its self-check
    yield request.param
    _core.set_simd_level("auto")
