"""Reading AmigoChat's replies: SSE or JSON chat completions, and image URL lists."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from jackfield.provider import (
    CompletionRequest,
    Event,
    Finish,
    HttpResponse,
    Image,
    ProviderError,
    ResponseFormatError,
    TextDelta,
    Usage,
    error_for_status,
    image_urls,
    sse_data,
)

if TYPE_CHECKING:
    # Typing only: the transport module loads aiohttp, which this module does not need.
    from jackfield.provider import ProviderTransport

__all__ = ["parse_response"]

_DONE = "[DONE]"


def _shown(raw: Any) -> str | bytes:
    """Return what to quote from a reply part: its text, or a JSON rendering of a parsed one."""
    if isinstance(raw, str | bytes):
        return raw
    return json.dumps(raw, default=str)[:1000]


def _format_error(provider: str, problem: str, raw: Any = None) -> ResponseFormatError:
    return ResponseFormatError(provider, problem, body=None if raw is None else _shown(raw))


def _status_in(details: Mapping[str, Any]) -> int | None:
    for key in ("status", "code", "statusCode"):
        value = details.get(key)
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599:
            return value
    return None


def _error_in(provider: str, data: Mapping[str, Any], raw: Any) -> ProviderError | None:
    """Return the typed error a JSON error object describes, or None if data is not one."""
    if data.get("choices") or not any(data.get(k) for k in ("error", "message", "detail")):
        return None
    error = data.get("error")
    status = _status_in(error if isinstance(error, Mapping) else data)
    said = "the provider reported an error instead of a reply"
    if status is not None:
        return error_for_status(provider, status, body=_shown(raw), reason=said)
    # "balance is not enough" and the like, without a status: retrying will not help.
    return ProviderError(provider, said, body=_shown(raw),
                         advice="Pick another model, or try this one again later.")


def _usage(provider: str, value: Any, raw: Any) -> Usage:
    """Return the Usage a `usage` object reports; counts that are not integers are a misfit."""
    if not isinstance(value, Mapping):
        raise _format_error(provider, "'usage' is not an object", raw)
    counts: dict[str, int | None] = {}
    for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
        count = value.get(key)
        if count is not None and (not isinstance(count, int) or isinstance(count, bool)):
            raise _format_error(provider, f"usage.{key} is not an integer", raw)
        counts[key] = count
    return Usage(**counts)


def _first_choice(provider: str, data: Mapping[str, Any], raw: Any) -> Mapping[str, Any] | None:
    """Return choices[0], or None when the object carries no choice (a usage-only chunk)."""
    choices = data.get("choices")
    if choices is None or choices == []:
        return None
    if not isinstance(choices, list) or not isinstance(choices[0], Mapping):
        raise _format_error(provider, "'choices' is not a list of objects", raw)
    return choices[0]


def _text_of(provider: str, choice: Mapping[str, Any], raw: Any) -> str | None:
    """Return a chunk's text: choices[0].delta.content, or the older choices[0].text."""
    delta = choice.get("delta")
    text = delta.get("content") if isinstance(delta, Mapping) else None
    if text is None:
        text = choice.get("text")
    if text is not None and not isinstance(text, str):
        raise _format_error(provider, "a chunk's text is not a string", raw)
    return text


def _finish_of(provider: str, choice: Mapping[str, Any], raw: Any) -> Finish | None:
    reason = choice.get("finish_reason")
    if reason is None:
        return None
    if not isinstance(reason, str):
        raise _format_error(provider, "finish_reason is not a string", raw)
    return Finish(reason)


def _load(provider: str, payload: str) -> Mapping[str, Any]:
    try:
        data = json.loads(payload)
    except json.JSONDecodeError as error:
        raise _format_error(provider, "an SSE event is not JSON", payload) from error
    if not isinstance(data, Mapping):
        raise _format_error(provider, "an SSE event is not a JSON object", payload)
    return data


def _chunk_events(provider: str, payload: str) -> list[Event]:
    """Return the events of one SSE chunk (its text, finish and usage), checked."""
    data = _load(provider, payload)
    error = _error_in(provider, data, payload)
    if error is not None:
        raise error
    events: list[Event] = []
    choice = _first_choice(provider, data, payload)
    if choice is not None:
        text = _text_of(provider, choice, payload)
        if text:
            events.append(TextDelta(text))
        finish = _finish_of(provider, choice, payload)
        if finish is not None:
            events.append(finish)
    if data.get("usage") is not None:
        events.append(_usage(provider, data["usage"], payload))
    return events


async def _stream_events(
    request: CompletionRequest, response: HttpResponse
) -> AsyncIterator[Event]:
    """Yield the events of an SSE chat reply as each `data:` line arrives."""
    await response.refuse_html()
    provider = request.provider
    done = False
    saw_reply = False  # any text, finish_reason or usage: proof that this was a chat stream
    async for payload in sse_data(response.iter_lines()):
        if payload.strip() == _DONE:
            done = True
            # Whatever follows [DONE] is not part of the reply; the core drops the connection.
            break
        # The chunk's parsed JSON lives in _chunk_events only, and its text is let go: an
        # open stream waiting for its next line holds neither (~1.4 KiB a stream).
        events = _chunk_events(provider, payload)
        del payload
        for event in events:
            saw_reply = True
            yield event
    # A reply that ended cleanly after real chunks is accepted even without [DONE], as
    # OpenAI-style clients do; one with nothing in it is an error page or a broken protocol.
    if not done and not saw_reply:
        raise _format_error(provider, "the reply ended without any chat chunk or [DONE]")


async def _json_events(request: CompletionRequest, response: HttpResponse) -> AsyncIterator[Event]:
    """Yield the events of a non-streaming chat completion object."""
    await response.refuse_html()
    provider = request.provider
    data = await response.json()
    if not isinstance(data, Mapping):
        raise _format_error(provider, "the reply is not a JSON object", data)
    error = _error_in(provider, data, data)
    if error is not None:
        raise error
    choice = _first_choice(provider, data, data)
    message = choice.get("message") if choice is not None else None
    content = message.get("content") if isinstance(message, Mapping) else None
    if choice is None or not isinstance(content, str):
        raise _format_error(provider, "the reply has no choices[0].message.content", data)
    if content:
        yield TextDelta(content)
    finish = _finish_of(provider, choice, data)
    if finish is not None:
        yield finish
    if data.get("usage") is not None:
        yield _usage(provider, data["usage"], data)


async def _image_events(request: CompletionRequest, response: HttpResponse,
                        transport: ProviderTransport) -> AsyncIterator[Event]:
    """Download every image the reply lists and yield each with its bytes."""
    await response.refuse_html()
    data = await response.json()
    # A reply without images may be an error object: raise what it says.
    error = _error_in(request.provider, data, data) if isinstance(data, Mapping) else None
    if error is not None and not data.get("data"):
        raise error
    for url in image_urls(request.provider, data, response.url):
        download = await transport.get(url)
        # An error page served with 200 is text; anything else is taken as the image.
        if download.content_type.startswith("text/") or "json" in download.content_type:
            # Type and size only: a non-image answer may be a page not to be quoted.
            raise _format_error(request.provider,
                                f"the image URL answered something that is not an image "
                                f"({download.summary})")
        yield Image(url=url, data=download.data, mime_type=download.content_type)


def parse_response(request: CompletionRequest, response: HttpResponse,
                   transport: ProviderTransport) -> AsyncIterator[Event]:
    """Return the event stream of a 2xx reply, chosen by model kind and content type."""
    content_type = response.content_type
    if request.model.kind == "image":
        return _image_events(request, response, transport)
    # Servers sometimes ignore the stream flag; the content type says what really came back.
    if content_type == "text/event-stream":
        return _stream_events(request, response)
    if content_type == "application/json" or not request.stream:
        return _json_events(request, response)
    return _stream_events(request, response)
