"""Checking what is handed to Registry() and to its calls, before any I/O: the plugins list,
a call's timeout, and the parts of a call that any model would refuse."""

from __future__ import annotations

import types
from collections.abc import Iterable, Mapping
from typing import Any

from jackfield._errors import ConfigurationError, InvalidRequestError
from jackfield._settings.checks import MAX_SECONDS, shown_value
from jackfield._settings.limits import Timeouts

__all__ = ["call_input", "call_timeouts", "plugin_list"]


def plugin_list(plugins: Iterable[object] | None) -> list[object] | None:
    """Return Registry(plugins=...) as a list (None: every installed plugin)."""
    if plugins is None:
        return None
    # One module is not a list of them: iterating it would fail far from the mistake.
    if isinstance(plugins, str | types.ModuleType) or not isinstance(plugins, Iterable):
        raise ConfigurationError(f"plugins= must be a list of plugin modules or objects, e.g. "
                                 f"plugins=[jackfield_aichats], got {plugins!r}.")
    return list(plugins)


def call_timeouts(base: Timeouts, timeout: float | Timeouts | None) -> Timeouts | None:
    """Return a call's timeouts: a number of seconds caps the registry's own (base)."""
    if timeout is None or isinstance(timeout, Timeouts):
        return timeout
    if (not isinstance(timeout, int | float) or isinstance(timeout, bool)
            or not 0 < timeout <= MAX_SECONDS):
        # nan compares false both ways: refused here, as inf and 10**400 are.
        raise InvalidRequestError(
            f"timeout must be a number of seconds above 0 and at most {MAX_SECONDS:g} "
            f"(or a jackfield.Timeouts), got {shown_value(timeout)}.")
    return Timeouts(connect=min(base.connect, timeout), read_idle=min(base.read_idle, timeout),
                    total=float(timeout))


def call_input(messages: Any, stream: bool, options: Mapping[str, Any]) -> None:
    """Check what a call says whatever model serves it (messages, parameters).

    Run before a model list is refreshed for the call, so that a bad call fails before any
    I/O; the full check, per candidate model, follows once the candidates are known.
    """
    from jackfield._engine.params import split_call
    from jackfield._types.message_input import normalize_messages

    normalize_messages(messages, [])
    wanted, _ = split_call(options)
    if wanted.n > 1 and stream:
        raise InvalidRequestError("n > 1 cannot be streamed: ask for n replies with "
                                  "stream=False, or stream n calls yourself.", param="n")
