"""tests/golden must stay an exact copy of ../shared/golden (the reference's cases are never edited)."""

import hashlib
from pathlib import Path

import pytest

from golden_cases import GOLDEN_DIR

SHARED = Path(__file__).resolve().parents[2] / "shared" / "golden"


def _digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_golden_set_is_present():
    assert len(list(GOLDEN_DIR.glob("case_*"))) == 60


@pytest.mark.skipif(not SHARED.is_dir(), reason="no ../shared/golden beside this checkout to compare with")
def test_golden_copy_matches_shared():
    assert _digests(GOLDEN_DIR) == _digests(SHARED)
