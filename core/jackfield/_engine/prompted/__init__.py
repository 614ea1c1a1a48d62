"""Prompted tools and JSON: placeholder until the prompted-emulation work lands (issue 11).

`prompted_plan(provider, messages, params, emulate)` returns the rewritten messages, the
event stage that parses the reply, and warnings. Not implemented yet: calling it raises.
"""

from __future__ import annotations

from typing import Any

__all__ = ["prompted_plan"]


def prompted_plan(provider: str, messages: Any, params: Any, emulate: frozenset[str]) -> Any:
    """Not implemented yet."""
    raise NotImplementedError("prompted tools and JSON are being built (issue 11)")
