"""tests/golden and tests/legacy_h5 must stay exact copies of ../shared/golden and ../shared/legacy_h5 (the
reference's cases are never edited)."""

import hashlib
from pathlib import Path

import pytest

from golden_cases import GOLDEN_DIR

SHARED = Path(__file__).resolve().parents[2] / "shared"
LEGACY_DIR = Path(__file__).parent / "legacy_h5"


def _digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("copy, count", [(GOLDEN_DIR, 60), (LEGACY_DIR, 16)], ids=["golden", "legacy_h5"])
def test_case_set_is_present(copy, count):
    assert len(list(copy.glob("case_*"))) == count


@pytest.mark.parametrize("copy", [GOLDEN_DIR, LEGACY_DIR], ids=["golden", "legacy_h5"])
def test_copy_matches_shared(copy):
    if not (SHARED / copy.name).is_dir():
        pytest.skip(f"no ../shared/{copy.name} beside this checkout to compare with")
    assert _digests(copy) == _digests(SHARED / copy.name)
