"""What akq._core exports to Python: its type stub, the version string and the constants the Python side
takes from it instead of repeating them."""

import ast
import importlib.util
import tomllib
from pathlib import Path

import akq
from akq import _core

ROOT = Path(__file__).resolve().parents[1]
STUB = Path(akq.__file__).with_name("_core.pyi")  # the stub of the akq under test (source tree or installed)


def _stub_generator():
    spec = importlib.util.spec_from_file_location("core_stub", ROOT / "scripts" / "core_stub.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_shipped_stub_is_what_the_generator_makes_of_the_built_module():
    assert STUB.is_file(), f"{STUB} is missing: the package must ship it"
    assert STUB.read_text() == _stub_generator().stub_text(_core), "stale stub: run scripts/core_stub.py"


def test_the_stub_declares_every_export_and_parses():
    tree = ast.parse(STUB.read_text())
    declared = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    declared |= {node.target.id for node in tree.body if isinstance(node, ast.AnnAssign)}
    exported = {name for name in vars(_core) if not name.startswith("_")}
    assert declared == exported


def test_one_version_string():  # (the CLI's --version is akq.__version__: tests/test_cli.py)
    assert _core.__version__ == akq.__version__
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert tool["project"]["dynamic"] == ["version"] and "version" not in tool["project"]
    assert tool["tool"]["scikit-build"]["metadata"]["version"]["input"] == "python/akq/_version.py"


def test_python_takes_its_constants_from_the_core():
    from akq.converter import diagnostics
    from akq.device import performance
    from akq.quantization_ops import PER_AXIS_RANGE_MIN, SCALE_FACTOR_MAX

    assert SCALE_FACTOR_MAX == _core.SCALE_FACTOR_MAX == diagnostics.SCALE_FACTOR_CLIP == 1000
    assert PER_AXIS_RANGE_MIN == _core.RANGE_MIN
    assert performance.DEFAULT_CLOCK_HZ == _core.DEFAULT_CLOCK_HZ == 187e6
    assert _core.STATIC_POWER_W == 0.912
