"""attrs validators for the policy classes: a wrong value is refused when it is set, by name."""

from __future__ import annotations

import math
from typing import Any

import attrs

from jackfield._errors import ConfigurationError

__all__ = ["MAX_COUNT", "MAX_SECONDS", "at_least", "duration", "flag", "optional_duration",
           "shown_value", "whole"]


def shown_value(value: object) -> str:
    """Return repr(value), but a huge int by its size: 10**4000 cannot even be printed."""
    if isinstance(value, int) and abs(value) > MAX_COUNT:
        return f"a whole number of {value.bit_length()} bits"
    return repr(value)


def _refuse(instance: object, attribute: attrs.Attribute[Any], value: object,
            accepted: str) -> ConfigurationError:
    return ConfigurationError(f"{type(instance).__name__}.{attribute.name} must be {accepted}, "
                              f"got {shown_value(value)}.")


# Longer waits are no limit at all, and beyond them the event loop's timers overflow.
MAX_SECONDS = 10.0**9
# Counts are sent to C code (socket pools, buffers): a Python int may be any size.
MAX_COUNT = 2**63 - 1


def _number(value: object) -> float | None:
    # bool is an int to Python, never a duration or a count to a user; nan and inf would
    # remove a limit or overflow a timer.
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            return None
        return number if math.isfinite(number) and number <= MAX_SECONDS else None
    return None


def _bound_of(value: object) -> str:
    """Name the upper bound when it is what value broke (nan, inf, 1e300)."""
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    return f" and at most {MAX_SECONDS:g}" if numeric and _number(value) is None else ""


def duration(*, zero: bool = False) -> Any:
    """Accept a number of seconds above zero (or from zero, with zero=True)."""
    accepted = "a number of seconds " + ("of at least 0" if zero else "above 0")

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        number = _number(value)
        if number is None or not (number >= 0 if zero else number > 0):
            raise _refuse(instance, attribute, value, accepted + _bound_of(value))

    return check


def optional_duration(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Accept a number of seconds above zero, or None for no limit."""
    number = _number(value)
    if value is not None and (number is None or not number > 0):
        raise _refuse(instance, attribute, value,
                      f"a number of seconds above 0{_bound_of(value)}, or None")


def at_least(minimum: int) -> Any:
    """Accept a whole number no smaller than minimum."""
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if (not isinstance(value, int) or isinstance(value, bool) or value < minimum
                or value > MAX_COUNT):
            too_large = isinstance(value, int) and value > MAX_COUNT
            raise _refuse(instance, attribute, value, f"a whole number of at least {minimum}"
                          + (" and at most 2**63 - 1" if too_large else ""))

    return check


whole = at_least(1)


def flag(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Accept True or False only (not 0, 1 or "yes")."""
    if not isinstance(value, bool):
        raise _refuse(instance, attribute, value, "true or false")
