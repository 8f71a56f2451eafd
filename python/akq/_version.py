"""The akq version: the one place it is written (pyproject.toml and CMakeLists.txt read it from here)."""

__version__ = "0.1.0"
