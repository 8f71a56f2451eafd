"""The docs hold: each guide's ```python blocks run as written (in order, in one namespace), every
"docs/spec X.y" citation in the repository names a section of docs/spec, and the spec's NP sweep tables
(appendix G) are the data tests/test_device_sweeps.py checks the mapper against."""

import ast
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SPEC = DOCS / "spec"
GUIDES = ["getting-started.md", "custom-quantizers.md", "hardware-errors.md", "deployment.md"]
NEEDS_AKIDA = {"deployment.md"}
# files a guide's code opens, copied into its working directory first
GUIDE_FILES = {"deployment.md": {"cnn2snn_model.h5": ROOT / "tests" / "legacy_h5" / "case_0015" / "model.h5"}}
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def python_blocks(name: str) -> list[str]:
    return PYTHON_BLOCK.findall((DOCS / name).read_text())


@pytest.mark.parametrize("name", GUIDES)
def test_guide_code_runs(name, tmp_path, monkeypatch):
    blocks = python_blocks(name)
    assert blocks, f"{name} has no python code"
    if name in NEEDS_AKIDA:
        pytest.importorskip("akida", reason="the akida runtime is not installed (pip install 'akq[akida]')")
    for file_name, source in GUIDE_FILES.get(name, {}).items():
        shutil.copy(source, tmp_path / file_name)
    monkeypatch.chdir(tmp_path)  # files the snippets write land here
    namespace = {"__name__": f"docs.{name}"}
    for index, block in enumerate(blocks):
        code = compile(block, f"{name} (python block {index + 1})", "exec")
        exec(code, namespace)  # noqa: S102 - the docs' own code


def test_guides_link_to_each_other():
    text = (DOCS / "getting-started.md").read_text()
    for name in GUIDES[1:]:
        assert f"({name})" in text and (DOCS / name).is_file()


# ---- docs/spec citations ---------------------------------------------------------------------------------
CITING_TREES = ["csrc", "python", "tests", "bench", "scripts", "docs"]
TEXT_SUFFIXES = {".py", ".pyi", ".cpp", ".hpp", ".h", ".md", ".sh", ".txt", ".toml", ".cmake"}
SECTION_ID = r"[A-G](?:\.\d+)*"
HEADING = re.compile(rf"^#+ ({SECTION_ID})[.\s]")
NUMBERED_ITEM = re.compile(r"^(\d+)\. ")
# "docs/spec B.2 step 4", "docs/spec F.4 item 9", "docs/spec C.1, C.3, C.8", "docs/spec A.1/F.2"
CITATION = re.compile(
    rf"docs/spec ({SECTION_ID})(?: (?:item|step) (\d+))?((?:\s*(?:,|/|;|and)\s*[A-G]\.\d+(?:\.\d+)*)*)")
FOLLOWING_ID = re.compile(r"[A-G]\.\d+(?:\.\d+)*")


def spec_sections() -> dict[str, str]:
    """Section id -> page: every heading "X.y ...", and "X.y.n" for item n of a numbered list under X.y."""
    sections = {}
    for page in sorted(SPEC.glob("[A-G]-*.md")):
        current = None
        for line in page.read_text().splitlines():
            if heading := HEADING.match(line):
                current = heading[1]
                sections[current] = page.name
            elif current and (item := NUMBERED_ITEM.match(line)):
                sections[f"{current}.{item[1]}"] = page.name
    return sections


def citing_files():
    for tree in CITING_TREES:
        for path in sorted((ROOT / tree).rglob("*")):
            if path.suffix in TEXT_SUFFIXES and path.is_file() and "golden" not in path.parts:
                yield path
    yield from [ROOT / "README.md", ROOT / "CMakeLists.txt", ROOT / "pyproject.toml"]


def citations():
    """(file:line, cited id) for every docs/spec citation in the repository."""
    for path in citing_files():
        if not path.is_file():
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            for match in CITATION.finditer(line):
                where = f"{path.relative_to(ROOT)}:{number}"
                yield where, match[1] + (f".{match[2]}" if match[2] else "")
                for following in FOLLOWING_ID.findall(match[3]):
                    yield where, following


def test_spec_pages_number_their_sections_by_their_letter():
    sections = spec_sections()
    for letter in "ABCDEFG":
        assert letter in sections, f"docs/spec has no section {letter}"
    for section, page in sections.items():
        allowed = "EFG" if page.startswith("E-") else page[0]
        assert section[0] in allowed, f"section {section} sits in {page}"
    index = (SPEC / "README.md").read_text()
    for page in set(sections.values()):
        assert f"({page})" in index, f"docs/spec/README.md does not link {page}"


def test_every_spec_citation_names_an_existing_section():
    sections = spec_sections()
    found = list(citations())
    assert found, "no docs/spec citation found: is the pattern still the one the code uses?"
    broken = [f"{where}: docs/spec {section}" for where, section in found if section not in sections]
    assert not broken, "citations of sections docs/spec does not have:\n" + "\n".join(broken)


def test_every_spec_page_named_exists():
    named = {(str(path.relative_to(ROOT)), page) for path in citing_files() if path.is_file()
             for page in re.findall(r"docs/spec/([\w.-]+\.md)", path.read_text(errors="replace"))}
    assert named, "no docs/spec page is named anywhere"
    missing = [f"{where}: docs/spec/{page}" for where, page in sorted(named) if not (SPEC / page).is_file()]
    assert not missing, "pages docs/spec does not have:\n" + "\n".join(missing)


# The old citations of files a clone does not have. The golden-copy test compares tests/golden with its source
# outside the repository on purpose, and tests/golden itself is never edited.
OUTSIDE_CITATION = re.compile(r"\.\./shared|SPEC-nsoc|AKD1000-FACTS|\bSPEC [A-G]\b|\[FACTS\b")
MAY_NAME_OUTSIDE = {"tests/test_golden_copy.py", "tests/test_docs.py"}


def test_nothing_cites_a_file_outside_the_repository():
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}" for path in citing_files()
             if path.is_file() and str(path.relative_to(ROOT)) not in MAY_NAME_OUTSIDE
             for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
             if OUTSIDE_CITATION.search(line)]
    assert not found, "cite docs/spec instead:\n" + "\n".join(found)


# ---- appendix G tables = the sweep data of tests/test_device_sweeps.py ------------------------------------
CAPTION = re.compile(r"^\*\*(Convolutional|SeparableConvolutional), kernel (\d)x\d, weights_bits=(\d)"
                     r"(?:, C=(\d+), F=\d+, input dim0 x dim1)?\*\*")
KIND = {"Convolutional": "conv", "SeparableConvolutional": "sep"}


def appendix_g_tables() -> dict:
    """(kind, kernel, weights bits, C of a dims table) -> (columns, {row: cells}) as docs/spec G has them."""
    text = (SPEC / "E-verification.md").read_text()
    tables, key = {}, None
    for line in text[text.index("# G."):].splitlines():
        if caption := CAPTION.match(line):
            fixed = int(caption[4]) if caption[4] else None
            key = ("dims" if fixed else KIND[caption[1]], int(caption[2]), int(caption[3]), fixed)
            tables[key] = (None, {})
        elif key and line.startswith("|") and not line.startswith("|---"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            value = [int(cell) if cell.isdigit() else cell for cell in cells[1:]]
            columns, rows = tables[key]
            if columns is None:
                tables[key] = (value, rows)
            else:
                rows[int(cells[0])] = value
    return tables


def test_appendix_g_is_the_sweep_data_the_mapper_is_tested_on():
    source = (ROOT / "tests" / "test_device_sweeps.py").read_text()
    node = next(n for n in ast.parse(source).body
                if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "SWEEPS")
    refusals = {"TB": "TB", "NE": "NE", "C1": "C1"}
    sweeps = eval(compile(ast.Expression(node.value), "SWEEPS", "eval"), refusals)  # noqa: S307 - a literal
    assert appendix_g_tables() == sweeps
