"""The Responses API's `input` (and `instructions`) as the core's Message objects.

`input` is a string (one user turn) or a list of items as clients send and replay them:
message items (user, system, developer, assistant; content as a string or input_text /
input_image / output_text / refusal parts), `function_call` items an earlier reply made and
the `function_call_output` items that answer them, and `reasoning` items of an earlier
reply, which openai-agents replays and no provider takes as input (reported, not sent).
Consecutive assistant text and function calls become one assistant message, as the chat
API holds them. Everything is checked here, with `input[i]...` names, before any provider
call; what needs stored state (`item_reference`, `file_id`) is refused, as nothing is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jackfield._errors import InvalidRequestError
from jackfield._types.content import ImagePart, TextPart, ToolCall, image_from_url
from jackfield._types.message_input import is_text
from jackfield._types.messages import Message, Part, Role
from jackfield._types.notices import CallWarning

__all__ = ["input_messages"]

_ROLES: dict[str, Role] = {"user": "user", "system": "system", "developer": "system",
                           "assistant": "assistant"}
# Bookkeeping of an earlier reply's items (their ids, their status), no input to any model.
_ITEM_KEYS = {
    "message": {"type", "role", "content", "id", "status", "phase"},
    "function_call": {"type", "call_id", "name", "arguments", "id", "status", "caller",
                      "namespace"},
    "function_call_output": {"type", "call_id", "output", "id", "status", "caller", "name",
                             "namespace"},
    "reasoning": {"type", "id", "summary", "content", "encrypted_content", "status"},
}
_STATEFUL = {"item_reference": "it names an item stored by an earlier response"}
_DETAILS = ("auto", "low", "high")


def _bad(where: str, text: str) -> InvalidRequestError:
    return InvalidRequestError(f"{where}: {text}", param=where)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _bad(where, f"must be a string, got {type(value).__name__}.")
    if not is_text(value):
        raise _bad(where, "holds an unpaired surrogate, which is not text (check how it was "
                          "decoded).")
    return value


def _extra(item: Mapping[str, Any], allowed: set[str], where: str, what: str) -> None:
    extra = sorted(set(item) - allowed)
    if extra:
        raise _bad(f"{where}.{extra[0]}", f"is not a field of {what}.")


def _image(part: Mapping[str, Any], where: str, warnings: list[CallWarning]) -> ImagePart:
    _extra(part, {"type", "image_url", "file_id", "detail"}, where, "an input_image part")
    if part.get("file_id") is not None:
        raise _bad(f"{where}.file_id", "images by file_id need OpenAI's file storage, which "
                                       "this server does not have: send the image as "
                                       "image_url, an https:// URL or a data: URL.")
    url = part.get("image_url")
    if not isinstance(url, str) or not url:
        raise _bad(f"{where}.image_url", "an input_image part needs image_url, an https:// "
                                         "URL or a data: URL.")
    detail = part.get("detail")
    if detail is not None and detail not in (*_DETAILS, "original"):
        raise _bad(f"{where}.detail", f"must be auto, low, high or original, got {detail!r}.")
    if detail == "original":
        warnings.append(CallWarning(f"{where}.detail", f"{where}.detail 'original' was not "
                                                       "sent: providers take auto, low or "
                                                       "high; the provider's default applies."))
        detail = None
    return image_from_url(url, f"{where}.image_url", detail)


def _parts(content: list[Any], where: str, role: str,
           warnings: list[CallWarning]) -> list[Part]:
    """Return a message's content parts (refusals and annotations reported, not sent)."""
    parts: list[Part] = []
    text_kind = "output_text" if role == "assistant" else "input_text"
    for number, part in enumerate(content):
        at = f"{where}[{number}]"
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind == text_kind == "input_text":
            _extra(part, {"type", "text"}, at, "an input_text part")
            parts.append(TextPart(_text(part.get("text"), f"{at}.text")))
        elif kind == text_kind == "output_text":
            _extra(part, {"type", "text", "annotations", "logprobs"}, at, "an output_text part")
            parts.append(TextPart(_text(part.get("text"), f"{at}.text")))
            for key in ("annotations", "logprobs"):
                if part.get(key):
                    warnings.append(CallWarning(f"{at}.{key}", f"{at}.{key} of an earlier "
                                                "reply were not sent: no provider takes them "
                                                "as input."))
        elif kind == "input_image" and role == "user":
            parts.append(_image(part, at, warnings))
        elif kind == "refusal" and role == "assistant":
            warnings.append(CallWarning(at, f"{at}: an earlier refusal was not sent; no "
                                            "provider takes refusals as input."))
        elif kind in ("input_file", "input_audio"):
            raise _bad(at, f"{kind} parts are not supported: this server carries text, and "
                           "images in user messages (input_image).")
        else:
            allowed = "output_text or refusal" if role == "assistant" else (
                "input_text or input_image" if role == "user" else "input_text")
            raise _bad(f"{at}.type", f"a {role} message's parts are {allowed}, got "
                                     f"{kind!r}.")
    return parts


def _message(item: Mapping[str, Any], where: str, warnings: list[CallWarning]) -> Message:
    _extra(item, _ITEM_KEYS["message"], where, "a message item")
    named = item.get("role")
    role = _ROLES.get(named) if isinstance(named, str) else None
    if role is None:
        raise _bad(f"{where}.role", "must be user, system, developer or assistant, got "
                                    f"{item.get('role')!r}.")
    if item.get("phase") is not None:
        warnings.append(CallWarning(f"{where}.phase", f"{where}.phase was not sent: no "
                                                      "provider takes it as input."))
    content = item.get("content")
    if isinstance(content, str):
        return Message(role, _text(content, f"{where}.content"))
    if not isinstance(content, list):
        raise _bad(f"{where}.content", "must be a string or a list of content parts.")
    parts = _parts(content, f"{where}.content", role, warnings)
    text = "".join(part.text for part in parts if isinstance(part, TextPart))
    images = any(isinstance(part, ImagePart) for part in parts)
    return Message(role, text, parts if images else ())


def _call_id(item: Mapping[str, Any], where: str) -> str:
    call_id = item.get("call_id")
    if not isinstance(call_id, str) or not call_id:
        raise _bad(f"{where}.call_id", "is required: the call_id the reply gave.")
    return call_id


def _caller(item: Mapping[str, Any], where: str, warnings: list[CallWarning]) -> None:
    caller = item.get("caller")
    if caller is not None and not (isinstance(caller, Mapping)
                                   and caller.get("type") == "direct"):
        warnings.append(CallWarning(f"{where}.caller", f"{where}.caller was not sent: "
                                                       "providers take direct calls only."))
    if item.get("namespace") is not None:
        warnings.append(CallWarning(f"{where}.namespace", f"{where}.namespace was not sent: "
                                                          "no provider takes it as input."))


def _function_call(item: Mapping[str, Any], where: str,
                   warnings: list[CallWarning]) -> ToolCall:
    _extra(item, _ITEM_KEYS["function_call"], where, "a function_call item")
    name = item.get("name")
    if not isinstance(name, str) or not name:
        raise _bad(f"{where}.name", "a function_call needs the function's name.")
    arguments = item.get("arguments", "{}")
    if not isinstance(arguments, str):
        raise _bad(f"{where}.arguments", "must be the JSON text of the arguments.")
    _caller(item, where, warnings)
    return ToolCall(_call_id(item, where), name, _text(arguments, f"{where}.arguments"))


def _output_text(output: Any, where: str) -> str:
    """Return a function_call_output's output as text (a string, or input_text parts)."""
    if isinstance(output, str):
        return _text(output, where)
    if not isinstance(output, list):
        raise _bad(where, "must be a string or a list of input_text parts.")
    pieces = []
    for number, part in enumerate(output):
        at = f"{where}[{number}]"
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind != "input_text":
            raise _bad(at, f"a tool's output is carried as text: send input_text parts, got "
                           f"{kind!r}.")
        _extra(part, {"type", "text"}, at, "an input_text part")
        pieces.append(_text(part.get("text"), f"{at}.text"))
    return "".join(pieces)


class _Conversation:
    """Builds the messages; consecutive assistant text and calls become one message."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._text: list[str] = []  # the open assistant message's text
        self._calls: list[ToolCall] = []  # and its calls
        self.called: set[str] = set()

    def add(self, message: Message) -> None:
        self.flush()
        self.messages.append(message)

    def assistant_text(self, text: str) -> None:
        self.flush()  # each assistant message item is a message; the calls after it join it
        self._text.append(text)

    def call(self, call: ToolCall) -> None:
        self._calls.append(call)
        self.called.add(call.id)

    def flush(self) -> None:
        if self._text or self._calls:
            self.messages.append(Message("assistant", "".join(self._text),
                                         tool_calls=tuple(self._calls)))
        self._text, self._calls = [], []


def _item(item: Any, where: str, conversation: _Conversation,
          warnings: list[CallWarning]) -> None:
    if not isinstance(item, Mapping):
        raise _bad(where, f"must be an input item (an object), got {type(item).__name__}.")
    kind = item.get("type", "message")
    if kind == "message":
        message = _message(item, where, warnings)
        if message.role == "assistant":
            conversation.assistant_text(message.content)
        else:
            conversation.add(message)
    elif kind == "function_call":
        conversation.call(_function_call(item, where, warnings))
    elif kind == "function_call_output":
        _extra(item, _ITEM_KEYS["function_call_output"], where, "a function_call_output item")
        call_id = _call_id(item, where)
        if call_id not in conversation.called:
            raise _bad(f"{where}.call_id", f"{call_id!r} answers no function_call of an "
                                           "earlier item: send the call too (this server "
                                           "keeps no earlier responses).")
        _caller(item, where, warnings)
        conversation.add(Message("tool", _output_text(item.get("output"), f"{where}.output"),
                                 tool_call_id=call_id))
    elif kind == "reasoning":
        _extra(item, _ITEM_KEYS["reasoning"], where, "a reasoning item")
        warnings.append(CallWarning(where, f"{where}: the earlier reasoning item was not "
                                           "sent; no provider takes reasoning as input."))
    elif kind in _STATEFUL:
        raise _bad(f"{where}.type", f"{kind} is not supported: {_STATEFUL[kind]}, and this "
                                    "server is stateless; send the whole item instead.")
    else:
        raise _bad(f"{where}.type", f"items of type {kind!r} are not supported: this server "
                                    "takes message, function_call, function_call_output and "
                                    "reasoning items (only function tools).")


def input_messages(value: Any, instructions: str | None,
                   warnings: list[CallWarning]) -> list[Message]:
    """Return the conversation `input` (and `instructions`, first, as a system message)
    describes; what is accepted but not sent is appended to warnings."""
    conversation = _Conversation()
    if instructions:
        conversation.add(Message("system", instructions))
    if isinstance(value, str):
        if not value.strip():
            raise _bad("input", "is empty: say something.")
        conversation.add(Message("user", _text(value, "input")))
    elif isinstance(value, list):
        for number, item in enumerate(value):
            _item(item, f"input[{number}]", conversation, warnings)
        conversation.flush()
    else:
        raise _bad("input", "is required: a string, or a list of input items.")
    messages = conversation.messages
    if not any(message.role != "system" for message in messages):
        raise _bad("input", "holds no user input: add a user message.")
    return messages
