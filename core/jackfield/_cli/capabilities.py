"""A model's capabilities in a table cell: "tools,vision,json,sampling", "text", "unknown".

It reads the JSON form (ModelInfo.to_dict()["capabilities"]), which is what the listing cache
holds, so `jackfield models` shows capabilities without importing the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["LEGEND", "compact"]

# Capability -> its short name in a table, in the order shown.
SHORT = {"tools": "tools", "image_input": "vision", "json_object": "json",
         "json_schema": "schema", "stop": "stop", "seed": "seed", "reasoning": "reasoning",
         "logprobs": "logprobs"}
ALL_SAMPLING = frozenset({"temperature", "top_p", "max_tokens", "presence_penalty",
                          "frequency_penalty"})
LEGEND = """\
CAPABILITIES lists what a chat model can do: tools, vision (image input), json (JSON object
output), schema (JSON schema output), stop, seed, reasoning, logprobs, and sampling (all five
sampling parameters honoured; otherwise the honoured ones are named). text: none of them.
NAME?: unknown, the provider's service decides. A call that needs what a model lacks goes to
another model or is refused; a parameter it does not honour is accepted with a warning."""


def compact(capabilities: Mapping[str, Any] | None, kind: str) -> str:
    """Return the short form of a model's capabilities ("-" for image models, which take a
    prompt only, and for a listing that holds none)."""
    if kind != "chat" or not isinstance(capabilities, Mapping):
        return "-"
    names: list[str] = []
    unknown = 0
    for name, short in SHORT.items():
        value = capabilities.get(name)
        if value is None:
            names.append(f"{short}?")
            unknown += 1
        elif value:
            names.append(short)
    sampling = capabilities.get("sampling")
    if sampling is None:
        if unknown == len(SHORT):
            return "unknown"  # a provider that forwards everything and lets its server decide
        names.append("sampling?")
    elif frozenset(sampling) == ALL_SAMPLING:
        names.append("sampling")
    else:
        names.extend(sorted(sampling))
    return ",".join(names) or "text"
