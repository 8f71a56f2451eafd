"""The Python code of docs/*.md runs as written: each guide's ```python blocks, in order, in one namespace."""

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
GUIDES = ["getting-started.md", "custom-quantizers.md", "hardware-errors.md", "learning.md"]
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def python_blocks(name: str) -> list[str]:
    return PYTHON_BLOCK.findall((DOCS / name).read_text())


@pytest.mark.parametrize("name", GUIDES)
def test_guide_code_runs(name, tmp_path, monkeypatch):
    blocks = python_blocks(name)
    assert blocks, f"{name} has no python code"
    monkeypatch.chdir(tmp_path)  # files the snippets write land here
    namespace = {"__name__": f"docs.{name}"}
    for index, block in enumerate(blocks):
        code = compile(block, f"{name} (python block {index + 1})", "exec")
        exec(code, namespace)  # noqa: S102 - the docs' own code


def test_guides_link_to_each_other():
    text = (DOCS / "getting-started.md").read_text()
    for name in GUIDES[1:]:
        assert f"({name})" in text and (DOCS / name).is_file()
