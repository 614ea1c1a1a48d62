"""Reading `jackfield serve --prompted` into the Registry(prompted=...) setting."""

from __future__ import annotations

from collections.abc import Iterable

from jackfield._engine.params import PROMPTABLE

__all__ = ["prompted_flags"]

Setting = bool | frozenset[str] | dict[str, frozenset[str]]


def _names(text: str, flag: str) -> frozenset[str]:
    names = frozenset(name.strip() for name in text.split(",") if name.strip())
    unknown = sorted(names - PROMPTABLE)
    if unknown or not names:
        shown = ", ".join(unknown) if unknown else "nothing"
        raise ValueError(f"--prompted {flag}: expected 'tools', 'json' or 'tools,json', got "
                         f"{shown}")
    return names


def prompted_flags(values: Iterable[str]) -> Setting:
    """Return the setting for --prompted values: "tools,json" for every model, and
    "MODEL=tools" (model id, provider/model or provider; repeatable) for one.

    No value: False (off). ValueError names a value that is neither.
    """
    every: frozenset[str] = frozenset()
    per_model: dict[str, frozenset[str]] = {}
    for value in values:
        name, equals, wanted = value.rpartition("=")
        if equals and not name.strip():
            raise ValueError(f"--prompted {value}: name a model before '='")
        if equals:
            per_model[name.strip()] = _names(wanted, value)
        else:
            every |= _names(wanted, value)
    if not per_model:
        return every or False
    if every:
        per_model.setdefault("*", every)  # the Registry's key for every other model
    return per_model
