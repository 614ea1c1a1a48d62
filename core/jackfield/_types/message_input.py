"""Checking a conversation as callers send it: OpenAI's message shapes, exactly as clients
replay them, into Message objects. Nothing is dropped unreported: a field with no meaning
for a provider becomes a warning when it is set, and a field of no known shape an error."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from jackfield._errors import InvalidRequestError
from jackfield._types.content import ImagePart, TextPart, ToolCall, check_image, image_from_url
from jackfield._types.messages import ROLES, Message, MessageInput, Part
from jackfield._types.notices import CallWarning

__all__ = ["is_text", "normalize_messages"]

# The keys each role's message may have in OpenAI's chat API (a tool message's `name` is
# what older clients and other services' SDKs still send with a tool result).
_KEYS = {
    "system": frozenset({"role", "content", "name"}),
    "user": frozenset({"role", "content", "name"}),
    "assistant": frozenset({"role", "content", "name", "tool_calls", "refusal", "annotations",
                            "audio", "function_call", "parsed", "reasoning_content"}),
    "tool": frozenset({"role", "content", "tool_call_id", "name"}),
}
# Assistant fields a client replays from an earlier reply; no provider can use them, so they
# are reported when set. (`parsed` is not among them: the openai SDK's parse() derives it from
# the content, which is sent, so nothing is lost by leaving it out.)
_REPLAYED = ("refusal", "annotations", "audio", "function_call", "reasoning_content")
_PLAIN_ROLES = ("system", "user", "assistant")  # a tuple: `in` compares, never hashes


def _bad(where: str, text: str) -> InvalidRequestError:
    return InvalidRequestError(f"{where}: {text}", param=where)


def is_text(text: str) -> bool:
    """Return True if text can be sent as UTF-8 (an unpaired surrogate cannot)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _checked_text(text: str, where: str) -> str:
    """Return text if it can be sent: an unpaired surrogate is not UTF-8 and not text."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise _bad(where, f"holds an unpaired surrogate at character {error.start}, which is "
                          "not text: check how the input was decoded (errors='surrogateescape' "
                          "makes these).") from None
    return text


def _image_part(part: Mapping[str, Any], where: str) -> ImagePart:
    extra = sorted(set(part) - {"type", "image_url"})
    if extra:
        raise _bad(f"{where}.{extra[0]}", "is not a field of an image_url part.")
    inner = part.get("image_url")
    if isinstance(inner, str):
        inner = {"url": inner}  # the older shape some clients still send
    if not isinstance(inner, Mapping) or not isinstance(inner.get("url"), str):
        raise _bad(f"{where}.image_url", "must be {\"url\": \"https://...\" or a data: URL}.")
    extra = sorted(set(inner) - {"url", "detail"})
    if extra:
        raise _bad(f"{where}.image_url.{extra[0]}", "is not a field of image_url.")
    detail = inner.get("detail")
    if detail not in (None, "auto", "low", "high"):
        raise _bad(f"{where}.image_url.detail", f"must be auto, low or high, got {detail!r}.")
    return image_from_url(inner["url"], f"{where}.image_url.url", detail)


def _parts(content: list[Any], where: str, role: str,
           warnings: list[CallWarning]) -> tuple[Part, ...]:
    parts: list[Part] = []
    for number, part in enumerate(content):
        at = f"{where}[{number}]"
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind == "text":
            extra = sorted(set(part) - {"type", "text"})
            if extra:
                raise _bad(f"{at}.{extra[0]}", "is not a field of a text part.")
            if not isinstance(part.get("text"), str):
                raise _bad(f"{at}.text", "a text part needs its text as a string.")
            parts.append(TextPart(_checked_text(part["text"], f"{at}.text")))
        elif kind == "image_url" and role == "user":
            parts.append(_image_part(part, at))
        elif kind == "refusal" and role == "assistant":
            warnings.append(CallWarning(at, f"{at}: an earlier refusal was not sent; no "
                                            "provider takes refusals as input."))
        elif kind in ("input_audio", "file", "image_url"):
            raise _bad(at, f"{kind} parts are not supported in {role} messages; jackfield "
                           "carries text parts, and image_url parts in user messages.")
        else:
            raise _bad(at, f"a content part must be {{'type': 'text', 'text': ...}} or "
                           f"{{'type': 'image_url', ...}}, got {_shown(part)}.")
    return tuple(parts)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:79] + "…"


def _tool_calls(value: Any, where: str) -> tuple[ToolCall, ...]:
    if not isinstance(value, list):
        raise _bad(where, "must be a list of tool calls.")
    calls = []
    for number, call in enumerate(value):
        at = f"{where}[{number}]"
        if not isinstance(call, Mapping):
            raise _bad(at, f"must be an object, got {_shown(call)}.")
        # `index` stays on calls that a client reassembled from streamed deltas (the openai
        # SDK's stream helper, llama-index): it only ordered the pieces.
        extra = sorted(set(call) - {"id", "type", "function", "index"})
        if extra:
            raise _bad(f"{at}.{extra[0]}", "is not a field of a tool call.")
        function = call.get("function")
        if call.get("type") not in (None, "function") or not isinstance(function, Mapping):
            raise _bad(at, "must be {'id': ..., 'type': 'function', 'function': {'name': ..., "
                           "'arguments': '<JSON text>'}}.")
        if not isinstance(call.get("id"), str) or not call["id"]:
            raise _bad(f"{at}.id", "a tool call needs its id, as the reply gave it.")
        if not isinstance(function.get("name"), str) or not function["name"]:
            raise _bad(f"{at}.function.name", "a tool call needs the function's name.")
        arguments = function.get("arguments", "{}")
        if not isinstance(arguments, str):
            raise _bad(f"{at}.function.arguments", "must be the JSON text of the arguments.")
        # parsed_arguments: the openai SDK's parse() decodes arguments into it; they are sent.
        extra = sorted(set(function) - {"name", "arguments", "parsed_arguments"})
        if extra:
            raise _bad(f"{at}.function.{extra[0]}", "is not a field of a tool call's function.")
        calls.append(ToolCall(call["id"], function["name"], arguments))
    return tuple(calls)


def _from_mapping(item: Mapping[str, Any], where: str,
                  warnings: list[CallWarning]) -> Message:
    role = item.get("role")
    if role == "developer":
        role = "system"  # OpenAI's newer clients send "developer" where older sent "system"
    if role == "function":
        raise _bad(f"{where}.role", "'function' is the legacy form of 'tool': send the result "
                                    "as {'role': 'tool', 'tool_call_id': ..., 'content': ...}.")
    if role not in ROLES:
        raise _bad(f"{where}.role", f"must be one of {', '.join(ROLES)}; got {_shown(role)}.")
    unknown = sorted(set(item) - _KEYS[role])
    if unknown:
        hint = (" Images go in content as {'type': 'image_url', 'image_url': {'url': ...}} "
                "parts." if "images" in unknown else "")
        raise _bad(f"{where}.{unknown[0]}", f"is not a field of a {role} message.{hint}")
    for key in _REPLAYED:
        if item.get(key) not in (None, [], ""):
            warnings.append(CallWarning(f"{where}.{key}", f"{where}.{key} was not sent: no "
                                                          "provider takes it as input."))
    tool_calls = _tool_calls(item["tool_calls"], f"{where}.tool_calls") if item.get(
        "tool_calls") is not None else ()
    content = item.get("content")
    parts: tuple[Part, ...] = ()
    if content is None:
        if role != "assistant" or not (tool_calls or item.get("refusal")
                                       or item.get("function_call")):
            raise _bad(f"{where}.content", "is required; it may be null only in an assistant "
                                           "message with tool_calls.")
        text = ""
    elif isinstance(content, str):
        text = _checked_text(content, f"{where}.content")
    elif isinstance(content, list):
        parts = _parts(content, f"{where}.content", role, warnings)
        text = "".join(part.text for part in parts if isinstance(part, TextPart))
        if not any(isinstance(part, ImagePart) for part in parts):
            parts = ()  # text only: content says it all
    else:
        raise _bad(f"{where}.content", f"must be a string or a list of parts, got "
                                       f"{type(content).__name__}.")
    tool_call_id = item.get("tool_call_id")
    if role == "tool" and (not isinstance(tool_call_id, str) or not tool_call_id):
        raise _bad(f"{where}.tool_call_id", "a tool message needs the id of the call it answers.")
    name = item.get("name")
    if name is not None and not isinstance(name, str):
        raise _bad(f"{where}.name", f"must be a string, got {type(name).__name__}.")
    return Message(role, text, parts, tool_calls, tool_call_id, name)


def _checked_message(item: Message, where: str) -> Message:
    """Return a caller's own Message if it holds what a dict would have to."""
    if item.role not in ROLES or not isinstance(item.content, str):
        raise _bad(where, f"is not a valid Message: {item!r}.")
    _checked_text(item.content, f"{where}.content")
    if item.role == "tool" and not item.tool_call_id:
        raise _bad(f"{where}.tool_call_id", "a tool message needs the id of the call it answers.")
    for number, part in enumerate(item.parts):
        at = f"{where}.content[{number}]"
        if isinstance(part, ImagePart):
            if item.role != "user":
                raise _bad(at, f"images are supported in user messages, not {item.role} ones.")
            check_image(part, at)  # the same rules as an image_url part's
        elif not isinstance(part, TextPart):
            raise _bad(at, f"must be a TextPart or an ImagePart, got {type(part).__name__}.")
    for number, call in enumerate(item.tool_calls):
        if not isinstance(call, ToolCall) or item.role != "assistant":
            raise _bad(f"{where}.tool_calls[{number}]", "tool calls are ToolCall objects, in "
                                                        "assistant messages only.")
    return item


def normalize_messages(messages: Iterable[MessageInput] | str,
                       warnings: list[CallWarning] | None = None) -> tuple[Message, ...]:
    """Validate a conversation and return it as Message objects; a bare string is one user turn.

    Fields accepted but not sent are appended to warnings (when given).
    """
    notes: list[CallWarning] = [] if warnings is None else warnings
    if isinstance(messages, str):
        if not messages.strip():
            raise InvalidRequestError("the prompt is empty: say something.", param="messages")
        return (Message("user", _checked_text(messages, "messages")),)
    if isinstance(messages, Mapping) or not isinstance(messages, Iterable):
        raise InvalidRequestError(
            "messages must be a list of {'role': ..., 'content': ...} dicts, "
            f"got {type(messages).__name__}.", param="messages")
    result: list[Message] = []
    called: set[str] = set()
    for index, item in enumerate(messages):
        # The usual message, {"role": ..., "content": "text"}, checked inline: a conversation
        # of such turns costs no more than before messages grew tools and images.
        if type(item) is dict and len(item) == 2:
            role, content = item.get("role"), item.get("content")
            if role in _PLAIN_ROLES and type(content) is str and (
                    content.isascii() or is_text(content)):
                result.append(Message(role, content))
                continue
        where = f"messages[{index}]"
        if isinstance(item, Message):
            message = _checked_message(item, where)
        elif isinstance(item, Mapping):
            message = _from_mapping(item, where, notes)
        else:
            raise _bad(where, "must be a dict like {'role': 'user', 'content': 'hi'} or a "
                              f"jackfield.Message, got {type(item).__name__}.")
        if message.tool_calls:
            called.update(call.id for call in message.tool_calls)
        if message.tool_call_id is not None and message.tool_call_id not in called:
            raise _bad(f"{where}.tool_call_id", f"{message.tool_call_id!r} answers no tool call "
                                                "of an earlier assistant message.")
        result.append(message)
    if not result:
        raise InvalidRequestError("messages is empty: send at least one user message.",
                                  param="messages")
    if all(m.role == "system" for m in result):
        raise InvalidRequestError("messages holds only system messages: add a user message.",
                                  param="messages")
    return tuple(result)
