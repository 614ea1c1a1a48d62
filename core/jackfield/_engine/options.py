"""Validation of per-call options against what the provider declares, before any I/O."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from jackfield._errors import InvalidRequestError
from jackfield._settings.checks import MAX_COUNT, shown_value
from jackfield._types.message_input import is_text
from jackfield._types.specs import Kind, Option

__all__ = ["validate_options"]

# What an upstream can hold: a JSON number beyond a signed 64-bit int is refused or
# misread by most services (and 10**4000 takes a long time even to print).
INT_RANGE = (-MAX_COUNT - 1, MAX_COUNT)


def _type_name(expected: type | tuple[type, ...]) -> str:
    types = expected if isinstance(expected, tuple) else (expected,)
    return " or ".join(t.__name__ for t in types)


def _accepts(expected: type | tuple[type, ...], value: Any) -> bool:
    types = expected if isinstance(expected, tuple) else (expected,)
    if isinstance(value, bool) and bool not in types:
        return False  # True is an int to Python, never to an API
    if isinstance(value, int) and float in types:
        return True
    return isinstance(value, types)


def validate_options(
    provider: str, kind: Kind, declared: Mapping[str, Option], given: Mapping[str, Any]
) -> dict[str, Any]:
    """Return the options to send (defaults filled in); raise InvalidRequestError on any misfit."""
    supported = {name: opt for name, opt in declared.items() if kind in opt.kinds}
    unknown = sorted(set(given) - set(supported))
    if unknown:
        listing = ", ".join(sorted(supported)) or "none"
        raise InvalidRequestError(
            f"{provider} does not accept the option(s) {', '.join(unknown)} for {kind} models. "
            f"Supported options: {listing}.", param=unknown[0]
        )
    result: dict[str, Any] = {}
    for name, option in supported.items():
        if name not in given or given[name] is None:
            if option.default is not None:
                result[name] = option.default
            continue
        value = given[name]
        if not _accepts(option.type, value):
            raise InvalidRequestError(
                f"{provider}: option {name!r} must be {_type_name(option.type)}, "
                f"got {type(value).__name__} {shown_value(value)}.", param=name
            )
        problem = _out_of_range(value)
        if problem:
            raise InvalidRequestError(f"{provider}: option {name!r} {problem}.", param=name)
        result[name] = float(value) if option.type is float else value
    return result


def _out_of_range(value: Any) -> str:
    """Return why a value cannot be sent (too large, not finite, not UTF-8), or ""."""
    if isinstance(value, int) and not isinstance(value, bool) and not (
            INT_RANGE[0] <= value <= INT_RANGE[1]):
        return f"must be a whole number from {INT_RANGE[0]} to {INT_RANGE[1]}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number, got {value!r}"
    if isinstance(value, str) and not is_text(value):
        return "holds an unpaired surrogate, which is not text (check how it was decoded)"
    return ""
