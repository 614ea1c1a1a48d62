"""Packing a conversation into the single prompt string AiChats accepts."""

from __future__ import annotations

from collections.abc import Sequence

from jackfield.provider import Message

__all__ = ["format_prompt", "speaker"]


def speaker(message: Message) -> str:
    """Return the label of a message's line: "User", or "User (Alice)" for a named speaker."""
    role = message.role.capitalize()
    # Whitespace is collapsed so that a name cannot start a line of its own.
    name = " ".join((message.name or "").split())
    # The role stays: a name tells speakers of one role apart (as OpenAI's `name` does), and
    # the closing "Assistant:" cue must still name the model's own role.
    return f"{role} ({name})" if name else role


def format_prompt(messages: Sequence[Message]) -> str:
    """Return a lone unnamed message's content, else "Role: content" lines (a named speaker:
    "Role (name): content") and a final "Assistant:"."""
    # The service takes one history entry only, so roles travel inside the text.
    if len(messages) == 1 and speaker(messages[0]) == messages[0].role.capitalize():
        return messages[0].content
    lines = [f"{speaker(message)}: {message.content}" for message in messages]
    return "\n".join(lines) + "\nAssistant:"
