"""attrs validators for the policy classes: a wrong value is refused when it is set, by name."""

from __future__ import annotations

from typing import Any

import attrs

from jackfield._errors import ConfigurationError

__all__ = ["at_least", "duration", "flag", "optional_duration", "whole"]


def _refuse(instance: object, attribute: attrs.Attribute[Any], value: object,
            accepted: str) -> ConfigurationError:
    return ConfigurationError(
        f"{type(instance).__name__}.{attribute.name} must be {accepted}, got {value!r}.")


def _number(value: object) -> float | None:
    # bool is an int to Python, never a duration or a count to a user.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def duration(*, zero: bool = False) -> Any:
    """Accept a number of seconds above zero (or from zero, with zero=True)."""
    accepted = "a number of seconds " + ("of at least 0" if zero else "above 0")

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        number = _number(value)
        if number is None or not (number >= 0 if zero else number > 0):
            raise _refuse(instance, attribute, value, accepted)

    return check


def optional_duration(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Accept a number of seconds above zero, or None for no limit."""
    number = _number(value)
    if value is not None and (number is None or not number > 0):
        raise _refuse(instance, attribute, value, "a number of seconds above 0, or None")


def at_least(minimum: int) -> Any:
    """Accept a whole number no smaller than minimum."""
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise _refuse(instance, attribute, value, f"a whole number of at least {minimum}")

    return check


whole = at_least(1)


def flag(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Accept True or False only (not 0, 1 or "yes")."""
    if not isinstance(value, bool):
        raise _refuse(instance, attribute, value, "true or false")
