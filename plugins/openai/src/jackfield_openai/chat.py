"""Reading chat completions: the SSE stream of `chat.completion.chunk`s, or one JSON object."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from jackfield.provider import (
    CompletionRequest,
    Event,
    Finish,
    HttpResponse,
    Logprobs,
    ReasoningDelta,
    ResponseFormatError,
    TextDelta,
    ToolCallDelta,
    Usage,
    sse_data,
)

from .errors import stream_error

__all__ = ["parse_chat", "reply_error", "reply_object", "usage_of"]

_DONE = "[DONE]"
# Where servers put the model's reasoning: DeepSeek and vLLM `reasoning_content`, OpenRouter
# and Ollama `reasoning`.
_REASONING_KEYS = ("reasoning_content", "reasoning")


def reply_error(provider: str, problem: str, raw: Any = None) -> ResponseFormatError:
    """Return the error for a reply that does not follow the protocol, quoting it."""
    shown = raw if raw is None or isinstance(raw, str | bytes) else json.dumps(raw)[:1000]
    return ResponseFormatError(provider, problem, body=shown)


async def reply_object(provider: str, response: HttpResponse, what: str) -> Mapping[str, Any]:
    """Return a whole JSON reply's object, after refusing HTML; an `error` object in it (a
    2xx reply that is an error) raises the typed error it names."""
    await response.refuse_html()
    data = await response.json()
    if not isinstance(data, Mapping):
        raise reply_error(provider, f"the {what} reply is not a JSON object", data)
    if data.get("error") is not None:
        raise stream_error(provider, data["error"])
    return data


def usage_of(provider: str, value: Any, raw: Any) -> Usage:
    """Return the Usage an OpenAI `usage` object reports (counts must be integers)."""
    if not isinstance(value, Mapping):
        raise reply_error(provider, "'usage' is not an object", raw)
    counts: dict[str, int | None] = {}
    for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
        count = value.get(key)
        if count is not None and (not isinstance(count, int) or isinstance(count, bool)):
            raise reply_error(provider, f"usage.{key} is not an integer", raw)
        counts[key] = count
    return Usage(**counts)


def _string(provider: str, value: Any, what: str, raw: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise reply_error(provider, f"{what} is not a string", raw)
    return value


def _tool_calls(provider: str, calls: Any, raw: Any, whole: bool) -> Iterator[ToolCallDelta]:
    if calls is None:
        return
    if not isinstance(calls, list):
        raise reply_error(provider, "'tool_calls' is not a list", raw)
    for position, call in enumerate(calls):
        function = call.get("function") if isinstance(call, Mapping) else None
        if not isinstance(function, Mapping):
            function = {}
        # A streamed piece says which call it continues; a whole message lists them in order.
        index = call.get("index", position) if isinstance(call, Mapping) else None
        if not isinstance(index, int) or isinstance(index, bool):
            raise reply_error(provider, "a tool call has no integer 'index'", raw)
        name = _string(provider, function.get("name"), "a tool call's name", raw)
        arguments = _string(provider, function.get("arguments"), "tool call arguments", raw)
        call_id = _string(provider, call.get("id"), "a tool call's id", raw)
        if whole and not name:
            raise reply_error(provider, "a tool call has no function name", raw)
        yield ToolCallDelta(index, id=call_id or None, name=name or None,
                            arguments=arguments or "")


def _choice_events(provider: str, choice: Mapping[str, Any], raw: Any, whole: bool
                   ) -> Iterator[Event]:
    """Yield what one choice carries: reasoning, text, tool calls, logprobs, finish."""
    body = choice.get("message" if whole else "delta")
    if body is None and not whole:
        body = {}
    if not isinstance(body, Mapping):
        raise reply_error(provider, f"choices[0].{'message' if whole else 'delta'} is not an "
                          "object", raw)
    for key in _REASONING_KEYS:
        reasoning = _string(provider, body.get(key), f"'{key}'", raw)
        if reasoning:
            yield ReasoningDelta(reasoning)
            break  # a server sending both sends the same text twice
    text = _string(provider, body.get("content"), "the reply's content", raw)
    if text:
        yield TextDelta(text)
    yield from _tool_calls(provider, body.get("tool_calls"), raw, whole)
    logprobs = choice.get("logprobs")
    if isinstance(logprobs, Mapping) and logprobs.get("content"):
        content = logprobs["content"]
        if not isinstance(content, list):
            raise reply_error(provider, "logprobs.content is not a list", raw)
        yield Logprobs(content)
    reason = _string(provider, choice.get("finish_reason"), "finish_reason", raw)
    if reason:
        yield Finish(reason)


def _choice(provider: str, data: Mapping[str, Any], raw: Any) -> Mapping[str, Any] | None:
    """Return the first choice (index 0; no call asks for more), or None for a usage chunk."""
    choices = data.get("choices")
    if not choices:
        return None
    if not isinstance(choices, list) or not all(isinstance(c, Mapping) for c in choices):
        raise reply_error(provider, "'choices' is not a list of objects", raw)
    first: list[Mapping[str, Any]] = [c for c in choices if c.get("index", 0) == 0]
    return first[0] if first else None


def _object(provider: str, payload: str) -> Mapping[str, Any]:
    try:
        data = json.loads(payload)
    except json.JSONDecodeError as error:
        raise reply_error(provider, "an SSE event is not JSON", payload) from error
    if not isinstance(data, Mapping):
        raise reply_error(provider, "an SSE event is not a JSON object", payload)
    return data


async def _stream(request: CompletionRequest, response: HttpResponse) -> AsyncIterator[Event]:
    await response.refuse_html()
    provider = request.provider
    done = seen = False
    async for payload in sse_data(response.iter_lines()):
        if payload.strip() == _DONE:
            done = True
            break  # anything after [DONE] is not part of the reply
        data = _object(provider, payload)
        if data.get("error") is not None:
            raise stream_error(provider, data["error"])
        choice = _choice(provider, data, payload)
        if choice is not None:
            seen = True
            for event in _choice_events(provider, choice, payload, whole=False):
                yield event
        if data.get("usage") is not None:
            seen = True
            yield usage_of(provider, data["usage"], payload)
    if not (done or seen):
        raise reply_error(provider, "the stream ended without any chat chunk or [DONE]")


async def _whole(request: CompletionRequest, response: HttpResponse) -> AsyncIterator[Event]:
    provider = request.provider
    data = await reply_object(provider, response, "chat")
    choice = _choice(provider, data, data)
    if choice is None:
        raise reply_error(provider, "the reply has no choices[0]", data)
    message = choice.get("message")
    if not isinstance(message, Mapping) or not (
            isinstance(message.get("content"), str) or message.get("tool_calls")):
        raise reply_error(provider, "choices[0].message has neither content nor tool_calls",
                          data)
    for event in _choice_events(provider, choice, data, whole=True):
        yield event
    if data.get("usage") is not None:
        yield usage_of(provider, data["usage"], data)


def parse_chat(request: CompletionRequest, response: HttpResponse) -> AsyncIterator[Event]:
    """Return the events of a chat reply; the content type says whether it streamed (some
    servers ignore `stream`). Both refuse an HTML page first."""
    if response.content_type == "text/event-stream" or (
            request.stream and response.content_type != "application/json"):
        return _stream(request, response)
    return _whole(request, response)
