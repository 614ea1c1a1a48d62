"""Parse Ollama replies: the NDJSON chat stream, a whole chat reply, and embeddings."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

from jackfield.provider import (
    CompletionRequest,
    EmbeddingRequest,
    Event,
    Finish,
    HttpResponse,
    ProviderRequest,
    ReasoningDelta,
    ResponseFormatError,
    TextDelta,
    ToolCallDelta,
    Usage,
    Vector,
)

from .errors import stream_error


async def parse(request: ProviderRequest, response: HttpResponse) -> AsyncIterator[Event]:
    """Yield the events of one reply. An async generator: nothing here runs, and nothing
    raises, until the core iterates it."""
    await response.refuse_html()  # a proxy's login page served with 200 names its title
    if isinstance(request, EmbeddingRequest):
        async for event in _embeddings(request, response):
            yield event
        return
    reply = _Reply(request)
    if request.stream:
        async for line in response.iter_lines():
            if not line.strip():
                continue
            for event in reply.events(_object(request.provider, line), line):
                yield event
            if reply.done:
                return
        raise ResponseFormatError(request.provider, 'the stream ended without a "done": true '
                                  "line")
    body = await response.json()
    text = json.dumps(body)
    for event in reply.events(_checked(request.provider, body, text), text):
        yield event
    if not reply.done:
        raise ResponseFormatError(request.provider, 'the reply is not "done"', body=text)


class _Reply:
    """One chat reply being read: lines in, events out; tool calls numbered in order."""

    def __init__(self, request: CompletionRequest) -> None:
        self.request = request
        self.calls = 0
        self.done = False

    def events(self, item: dict[str, Any], line: str) -> Iterator[Event]:
        """Yield the events of one line (or of the whole reply)."""
        provider = self.request.provider
        if "error" in item:  # the server failed after it had answered 200
            raise stream_error(self.request, str(item["error"]), line)
        message = item.get("message", {})
        if not isinstance(message, dict):
            raise ResponseFormatError(provider, '"message" is not an object', body=line)
        for key, kind in (("thinking", ReasoningDelta), ("content", TextDelta)):
            value = message.get(key)
            if value is not None and not isinstance(value, str):
                raise ResponseFormatError(provider, f'"message.{key}" is not a string', body=line)
            if value:
                yield kind(value)
        for call in message.get("tool_calls") or ():
            yield self._tool_call(call, line)
        if item.get("done") is True:
            self.done = True
            yield from _usage(provider, item, line)
            reason = item.get("done_reason") or "stop"
            yield Finish("tool_calls" if self.calls else str(reason))

    def _tool_call(self, call: Any, line: str) -> ToolCallDelta:
        """Return one whole call: Ollama sends each call complete, its arguments an object."""
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise ResponseFormatError(self.request.provider,
                                      'a tool call has no "function" with a "name"', body=line)
        arguments = function.get("arguments", {})
        if not isinstance(arguments, dict):
            raise ResponseFormatError(self.request.provider,
                                      "a tool call's arguments are not an object", body=line)
        call_id = call.get("id")
        delta = ToolCallDelta(self.calls, id=call_id if isinstance(call_id, str) else None,
                              name=function["name"], arguments=json.dumps(arguments))
        self.calls += 1
        return delta


def _usage(provider: str, item: dict[str, Any], line: str) -> Iterator[Usage]:
    """Yield the token counts of the final line, when the server sent them."""
    prompt, completion = item.get("prompt_eval_count"), item.get("eval_count")
    if prompt is None and completion is None:
        return
    for value in (prompt, completion):
        if value is not None and (type(value) is not int or value < 0):
            raise ResponseFormatError(provider, "a token count is not a whole number",
                                      body=line)
    yield Usage(prompt_tokens=prompt, completion_tokens=completion,
                total_tokens=(prompt or 0) + (completion or 0))


async def _embeddings(request: EmbeddingRequest, response: HttpResponse
                      ) -> AsyncIterator[Event]:
    """Yield one Vector per input, in order, then the usage."""
    body = await response.json()
    text = json.dumps(body)[:2000]
    vectors = body.get("embeddings") if isinstance(body, dict) else None
    if not isinstance(vectors, list) or len(vectors) != len(request.inputs):
        raise ResponseFormatError(request.provider, f"the reply has no list of "
                                  f"{len(request.inputs)} embeddings", body=text)
    for index, values in enumerate(vectors):
        if not isinstance(values, list) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            raise ResponseFormatError(request.provider, f"embedding {index} is not a list of "
                                      "numbers", body=text)
        yield Vector(index, values)
    for usage in _usage(request.provider, {"prompt_eval_count": body.get("prompt_eval_count")},
                        text):
        yield usage


def _object(provider: str, line: str) -> dict[str, Any]:
    """Decode one NDJSON line, which must be an object."""
    try:
        item = json.loads(line)
    except ValueError:
        raise ResponseFormatError(provider, "a stream line is not JSON", body=line) from None
    return _checked(provider, item, line)


def _checked(provider: str, item: Any, text: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ResponseFormatError(provider, "a reply line is not a JSON object", body=text)
    return item
