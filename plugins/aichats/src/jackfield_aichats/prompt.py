"""Packing a conversation into the single prompt string AiChats accepts."""

from __future__ import annotations

from collections.abc import Sequence

from jackfield.provider import Message

__all__ = ["format_prompt"]


def format_prompt(messages: Sequence[Message]) -> str:
    """Return a lone message's content, else "Role: content" lines and a final "Assistant:"."""
    # The service takes one history entry only, so roles travel inside the text.
    if len(messages) == 1 and messages[0].name is None:
        return messages[0].content
    # A speaker's name stands in for the role word: "Alice: hi".
    lines = [f"{message.name or message.role.capitalize()}: {message.content}"
             for message in messages]
    return "\n".join(lines) + "\nAssistant:"
