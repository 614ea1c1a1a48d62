"""What the emulated models answer: deterministic replies a test can predict.

A model echoes the last user turn ("You said: ..."), describes the images it got, calls the
first tool it is offered, reads back a tool's result, fills in a JSON schema, and "thinks"
first when asked to; `num_predict` and `stop` cut the reply as Ollama's options do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .shelf import describe_image, sample


@dataclass
class Answer:
    """One reply: its thinking, text and tool calls, why it ended, and the word counts."""

    text: str = ""
    thinking: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    reason: str = "stop"
    prompt_words: int = 0
    reply_words: int = 0


def answer(turns: list[dict[str, Any]], options: Mapping[str, Any], fmt: Any,
           tools: list[dict[str, Any]], think: bool) -> Answer:
    """Return the reply to a checked chat request."""
    last = turns[-1]
    reply = Answer(prompt_words=sum(len(turn["content"].split()) for turn in turns))
    if think:
        reply.thinking = f"The user wrote {len(last['content'].split())} words."
    if tools and last["role"] == "user":
        function = tools[0]["function"]
        reply.tool_calls = [{"function": {
            "name": function["name"],
            "arguments": sample(function.get("parameters") or {"type": "object"},
                                last["content"])}}]
        return reply
    if last["role"] == "tool":
        text = f"The tool said: {last['content']}"
    elif fmt is not None:
        text = json.dumps(sample(None if fmt == "json" else fmt, last["content"]))
    else:
        text = f"You said: {last['content']}"
        seen = [describe_image(image) for image in last["images"]]
        if seen:
            text += f" (I see {', '.join(seen)})"
    for stop in options.get("stop", []):
        if stop in text:
            text = text[:text.index(stop)]
    limit = options.get("num_predict")
    if limit is not None and limit >= 0 and len(text.split(" ")) > limit:
        text, reply.reason = " ".join(text.split(" ")[:limit]), "length"
    reply.text = text
    reply.reply_words = len(text.split())
    return reply
