"""Lazy module attributes (PEP 562), so the public modules import nothing until a name is used."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(package: str, table: Mapping[str, str], public: list[str]
                    ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return a module's `__getattr__` and `__dir__` for names found in `table`.

    `table` maps a public name to the module (relative to `jackfield`) that defines it;
    the value is imported on first use and cached in the module's globals.
    """
    namespace = importlib.import_module(package).__dict__

    def getattr_(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"jackfield.{module}"), name)
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return list(public)

    return getattr_, dir_
