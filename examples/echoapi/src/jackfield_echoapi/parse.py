"""Parse EchoAPI replies: NDJSON chat streams, JSON chat bodies and sketch results."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from jackfield.provider import (
    CompletionRequest,
    Event,
    Finish,
    HttpResponse,
    Image,
    ProviderTransport,
    ResponseFormatError,
    TextDelta,
    Usage,
    image_urls,
)


async def parse(
    request: CompletionRequest, response: HttpResponse, transport: ProviderTransport
) -> AsyncIterator[Event]:
    """Yield the events of one EchoAPI reply."""
    await response.refuse_html()  # a login or challenge page served with 200 names its title
    if request.model.kind == "image":
        async for event in _parse_sketch(request, response, transport):
            yield event
    elif request.stream:
        async for event in _parse_stream(request, response):
            yield event
    else:
        async for event in _parse_body(request, response):
            yield event


async def _parse_stream(request: CompletionRequest, response: HttpResponse) -> AsyncIterator[Event]:
    """Yield a TextDelta per `{"delta": ...}` line, then usage and finish from the done line."""
    async for line in response.iter_lines():
        if not line.strip():
            continue  # keep-alive
        try:
            item = json.loads(line)
        except ValueError:
            raise ResponseFormatError(request.provider, "a stream line is not JSON",
                                      body=line) from None
        if not isinstance(item, dict):
            raise ResponseFormatError(request.provider, "a stream line is not a JSON object",
                                      body=line)
        if "delta" in item:
            delta = item["delta"]
            if not isinstance(delta, str):
                raise ResponseFormatError(request.provider, '"delta" is not a string', body=line)
            if delta:
                yield TextDelta(delta)
        elif item.get("done") is True:
            usage = _usage(request, item.get("usage"), line)
            if usage is not None:
                yield usage
            yield Finish(_finish(request, item, line))
            return
        else:
            raise ResponseFormatError(request.provider,
                                      'a stream line has neither "delta" nor "done"', body=line)
    raise ResponseFormatError(request.provider, 'the stream ended without a {"done": true} line')


async def _parse_body(request: CompletionRequest, response: HttpResponse) -> AsyncIterator[Event]:
    """Yield the text, usage and finish of a non-streamed `{"text": ...}` reply."""
    body = await response.json()
    if not isinstance(body, dict) or not isinstance(body.get("text"), str):
        raise ResponseFormatError(request.provider, 'the reply has no "text" string',
                                  body=json.dumps(body))
    if body["text"]:
        yield TextDelta(body["text"])
    usage = _usage(request, body.get("usage"), body)
    if usage is not None:
        yield usage
    yield Finish(_finish(request, body, body))


async def _parse_sketch(
    request: CompletionRequest, response: HttpResponse, transport: ProviderTransport
) -> AsyncIterator[Event]:
    """Download every image the sketch reply links to, through the core's session."""
    body = await response.json()
    # Relative links are resolved against the reply; anything but http(s) is refused.
    for url in image_urls(request.provider, body, response.url, key="images"):
        download = await transport.get(url)  # links are public: no token needed
        if not download.content_type.startswith("image/"):
            raise ResponseFormatError(request.provider,
                                      f"the image link served {download.content_type!r}")
        yield Image(url=download.url, data=download.data, mime_type=download.content_type)
    yield Finish("stop")


def _usage(request: CompletionRequest, raw: Any, context: Any) -> Usage | None:
    """Convert `{"in": n, "out": m}` into Usage; reject anything else."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or not all(isinstance(raw.get(k), int) for k in ("in", "out")):
        raise ResponseFormatError(request.provider, '"usage" is not {"in": int, "out": int}',
                                  body=_text(context))
    return Usage(prompt_tokens=raw["in"], completion_tokens=raw["out"],
                 total_tokens=raw["in"] + raw["out"])


def _finish(request: CompletionRequest, item: dict[str, Any], context: Any) -> str:
    """Return the finish reason (defaults to "stop")."""
    reason = item.get("finish", "stop")
    if not isinstance(reason, str):
        raise ResponseFormatError(request.provider, '"finish" is not a string',
                                  body=_text(context))
    return reason


def _text(context: Any) -> str:
    """Render a reply excerpt for an error."""
    return context if isinstance(context, str) else json.dumps(context)
