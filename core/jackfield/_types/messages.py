"""Chat messages: the core's message type and the validation of OpenAI-style input."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs

from jackfield._errors import InvalidRequestError

__all__ = ["ROLES", "Message", "MessageInput", "normalize_messages"]

Role = Literal["system", "user", "assistant"]
ROLES: tuple[Role, ...] = ("system", "user", "assistant")


@attrs.frozen
class Message:
    """One message of a conversation."""

    role: Role
    content: str

    def to_dict(self) -> dict[str, str]:
        """Return the OpenAI wire form of this message."""
        return {"role": self.role, "content": self.content}


MessageInput = Message | Mapping[str, Any]


def _content_text(content: Any, index: int) -> str:
    """Accept a string, or OpenAI content parts that are all text."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if not (isinstance(part, Mapping) and part.get("type") == "text"):
                raise InvalidRequestError(
                    f"messages[{index}].content: only text parts are supported, got {part!r}."
                )
            text = part.get("text")
            if not isinstance(text, str):
                raise InvalidRequestError(f"messages[{index}].content: a text part needs 'text'.")
            texts.append(text)
        return "".join(texts)
    raise InvalidRequestError(
        f"messages[{index}].content must be a string, got {type(content).__name__}."
    )


def _checked_text(text: str, index: int) -> str:
    """Return text if it can be sent: an unpaired surrogate is not UTF-8 and not text."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidRequestError(
            f"messages[{index}].content holds an unpaired surrogate at character "
            f"{error.start}, which is not text: check how the input was decoded "
            "(errors='surrogateescape' makes these).") from None
    return text


def _one_message(item: Any, index: int) -> Message:
    if isinstance(item, Message):
        if item.role not in ROLES or not isinstance(item.content, str):
            raise InvalidRequestError(f"messages[{index}] is not a valid Message: {item!r}.")
        _checked_text(item.content, index)
        return item
    if not isinstance(item, Mapping):
        raise InvalidRequestError(
            f"messages[{index}] must be a dict like {{'role': 'user', 'content': 'hi'}} "
            f"or a jackfield.Message, got {type(item).__name__}."
        )
    role = item.get("role")
    if role not in ROLES:
        raise InvalidRequestError(
            f"messages[{index}].role must be one of {', '.join(ROLES)}; got {role!r}."
        )
    if "content" not in item:
        raise InvalidRequestError(f"messages[{index}] has no 'content'.")
    return Message(role=role, content=_checked_text(_content_text(item["content"], index), index))


def normalize_messages(messages: Iterable[MessageInput] | str) -> tuple[Message, ...]:
    """Validate a conversation and return it as Message objects; a bare string is one user turn."""
    if isinstance(messages, str):
        if not messages.strip():
            raise InvalidRequestError("the prompt is empty: say something.")
        messages = [{"role": "user", "content": messages}]
    if isinstance(messages, Mapping) or not isinstance(messages, Iterable):
        raise InvalidRequestError(
            "messages must be a list of {'role': ..., 'content': ...} dicts, "
            f"got {type(messages).__name__}."
        )
    result = tuple(_one_message(item, i) for i, item in enumerate(messages))
    if not result:
        raise InvalidRequestError("messages is empty: send at least one user message.")
    if all(m.role == "system" for m in result):
        raise InvalidRequestError("messages holds only system messages: add a user message.")
    return result
