"""Chat messages: the core's message type, as a provider receives it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

from jackfield._types.content import ImagePart, TextPart, ToolCall

__all__ = ["ROLES", "Message", "MessageInput", "Part", "Role"]

Role = Literal["system", "user", "assistant", "tool"]
ROLES: tuple[Role, ...] = ("system", "user", "assistant", "tool")
Part = TextPart | ImagePart


def _parts(value: Any) -> tuple[Part, ...]:
    return tuple(value)


def _calls(value: Any) -> tuple[ToolCall, ...]:
    return tuple(value)


@attrs.frozen
class Message:
    """One message of a conversation.

    `content` is always the message's text (its text parts joined). `parts` holds the
    content parts in order when the message has more than text (images); it is empty for
    plain text. An assistant message may carry `tool_calls` (its `content` then often "");
    a "tool" message answers the call `tool_call_id`. `name` is the optional speaker name.
    """

    role: Role
    content: str
    parts: tuple[Part, ...] = attrs.field(default=(), converter=_parts)
    tool_calls: tuple[ToolCall, ...] = attrs.field(default=(), converter=_calls)
    tool_call_id: str | None = None
    name: str | None = None

    @property
    def images(self) -> tuple[ImagePart, ...]:
        """Return the image parts of this message, in order."""
        return tuple(part for part in self.parts if isinstance(part, ImagePart))

    def to_dict(self) -> dict[str, Any]:
        """Return the OpenAI wire form of this message."""
        if not (self.parts or self.tool_calls or self.tool_call_id or self.name):
            return {"role": self.role, "content": self.content}  # the usual case, cheaply
        result: dict[str, Any] = {"role": self.role}
        if self.images:
            result["content"] = [part.to_dict() for part in self.parts]
        else:
            result["content"] = None if self.tool_calls and not self.content else self.content
        if self.tool_calls:
            result["tool_calls"] = [call.to_dict() for call in self.tool_calls]
        if self.tool_call_id is not None:
            result["tool_call_id"] = self.tool_call_id
        if self.name is not None:
            result["name"] = self.name
        return result


MessageInput = Message | Mapping[str, Any]
