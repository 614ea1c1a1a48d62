"""What a model can do, as its provider declares it: the core routes and warns by this."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

__all__ = ["SAMPLING", "Capabilities"]

# The sampling parameters of complete(); a model honours some, all or none of them.
SAMPLING = ("temperature", "top_p", "max_tokens", "presence_penalty", "frequency_penalty")


def _sampling(value: Iterable[str] | None) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = (value,)
    names = frozenset(value)
    unknown = sorted(names - set(SAMPLING))
    if unknown:
        raise ValueError(f"unknown sampling parameter(s) {unknown}; known: {list(SAMPLING)}")
    return names


@attrs.frozen
class Capabilities:
    """What one model supports. True: it does; False: it does not; None: unknown (the
    provider forwards to a server that decides), which routes like True.

    The default is a text-only model that honours no parameter. `sampling` names the
    sampling parameters honoured (None: unknown, all are sent).
    """

    tools: bool | None = False
    image_input: bool | None = False
    json_object: bool | None = False
    json_schema: bool | None = False
    stop: bool | None = False
    seed: bool | None = False
    reasoning: bool | None = False
    logprobs: bool | None = False
    sampling: frozenset[str] | None = attrs.field(default=frozenset(), converter=_sampling)

    @classmethod
    def unknown(cls) -> Capabilities:
        """Return capabilities that are all unknown: everything is sent, the server decides."""
        return cls(tools=None, image_input=None, json_object=None, json_schema=None, stop=None,
                   seed=None, reasoning=None, logprobs=None, sampling=None)

    def has(self, name: str) -> bool:
        """Return True if capability name is declared supported or unknown."""
        value = getattr(self, name)
        return value is not False

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (sampling as a sorted list, or null when unknown)."""
        result = attrs.asdict(self)
        result["sampling"] = None if self.sampling is None else sorted(self.sampling)
        return result
