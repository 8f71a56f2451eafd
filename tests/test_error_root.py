"""One error root (issue 14): every error akq raises on purpose derives from akq.AkqError, keeping the
built-in base class the reference raised. A scan of the package's raise statements keeps it so."""

import ast
import builtins
from pathlib import Path

import akq

PACKAGE = Path(akq.__file__).parent
# built-in raises that are protocol, not errors: abstract methods, attribute and item lookup
PROTOCOL = {"NotImplementedError": None, "AttributeError": "__getattr__", "KeyError": "__getitem__"}


def _bare_raises(node, function=None):
    """(line, exception name) of every `raise BuiltinError(...)` outside its protocol method."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        function = node.name
    if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and isinstance(node.exc.func, ast.Name):
        name = node.exc.func.id
        if isinstance(getattr(builtins, name, None), type) and not (
                name in PROTOCOL and PROTOCOL[name] in (None, function)):
            yield node.lineno, name
    for child in ast.iter_child_nodes(node):
        yield from _bare_raises(child, function)


def test_no_module_raises_a_bare_built_in_exception():
    bare = {f"{path.relative_to(PACKAGE)}:{line} raises {name}"
            for path in sorted(PACKAGE.rglob("*.py")) for line, name in _bare_raises(ast.parse(path.read_text()))}
    assert not bare, "raise an akq.errors class instead:\n" + "\n".join(sorted(bare))


def test_every_akq_error_keeps_a_built_in_base():
    classes = [c for c in vars(akq.errors).values() if isinstance(c, type) and issubclass(c, akq.AkqError)]
    for cls in classes:
        if cls is not akq.AkqError:
            assert any(base.__module__ == "builtins" and base is not Exception for base in cls.__mro__[1:-2]), cls
