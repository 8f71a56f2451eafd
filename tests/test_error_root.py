"""One error root (issue 14): every error akq raises on purpose derives from akq.AkqError, keeping the
built-in base class the reference raised. A scan of the package's raise statements keeps it so."""

import ast
import builtins
from pathlib import Path

import akq

PACKAGE = Path(akq.__file__).parent
# the two built-in raises that are protocol, not errors: abstract methods and module attribute lookup
ALLOWED = {"NotImplementedError", "AttributeError"}


def test_no_module_raises_a_bare_built_in_exception():
    bare = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and isinstance(node.exc.func, ast.Name):
                name = node.exc.func.id
                if isinstance(getattr(builtins, name, None), type) and name not in ALLOWED:
                    bare.append(f"{path.relative_to(PACKAGE)}:{node.lineno} raises {name}")
    assert not bare, "raise an akq.errors class instead:\n" + "\n".join(bare)


def test_every_akq_error_keeps_a_built_in_base():
    classes = [c for c in vars(akq.errors).values() if isinstance(c, type) and issubclass(c, akq.AkqError)]
    for cls in classes:
        if cls is not akq.AkqError:
            assert any(base.__module__ == "builtins" and base is not Exception for base in cls.__mro__[1:-2]), cls
