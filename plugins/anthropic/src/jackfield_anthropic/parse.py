"""Reading Messages replies: the SSE event stream, or one `message` object.

Content blocks become events: `text` → TextDelta, `thinking` → ReasoningDelta, `tool_use` →
ToolCallDelta (numbered in the order the calls come; the id and name from the block's start,
the arguments from its `input_json_delta` fragments), except the forced JSON tool of a
response_format call, whose input is the reply's text. `signature_delta`s and
`redacted_thinking` carry no text and are not shown; other block types (server tools, which
this plugin never asks for) are skipped. `message_delta`'s stop_reason is the finish reason
(STOP_REASONS), its usage with message_start's the Usage.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from jackfield.provider import (
    CompletionRequest,
    Event,
    Finish,
    HttpResponse,
    ReasoningDelta,
    ResponseFormatError,
    TextDelta,
    ToolCallDelta,
    Usage,
    sse_data,
)

from .errors import stream_error
from .wire import json_tool_name

__all__ = ["STOP_REASONS", "parse_messages", "usage_of"]

STOP_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length",
                "tool_use": "tool_calls", "pause_turn": "stop", "refusal": "content_filter",
                "model_context_window_exceeded": "length"}
_USAGE_KEYS = ("input_tokens", "output_tokens", "cache_creation_input_tokens",
               "cache_read_input_tokens")


def _bad(provider: str, problem: str, raw: Any = None) -> ResponseFormatError:
    shown = raw if raw is None or isinstance(raw, str | bytes) else json.dumps(raw)[:1000]
    return ResponseFormatError(provider, problem, body=shown)


def _counts(provider: str, value: Any, raw: Any) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise _bad(provider, "'usage' is not an object", raw)
    counts = {}
    for key in _USAGE_KEYS:
        count = value.get(key)
        if count is None:
            continue
        if not isinstance(count, int) or isinstance(count, bool):
            raise _bad(provider, f"usage.{key} is not an integer", raw)
        counts[key] = count
    return counts


def usage_of(counts: Mapping[str, int]) -> Usage:
    """Return the Usage of Anthropic's counts: the prompt is the uncached input plus what was
    written to and read from the prompt cache (OpenAI's prompt_tokens include cached ones)."""
    prompt = sum(counts.get(key, 0) for key in _USAGE_KEYS if key != "output_tokens")
    completion = counts.get("output_tokens", 0)
    return Usage(prompt_tokens=prompt, completion_tokens=completion,
                 total_tokens=prompt + completion)


def _string(provider: str, value: Any, what: str, raw: Any) -> str:
    if not isinstance(value, str):
        raise _bad(provider, f"{what} is not a string", raw)
    return value


def _finish(provider: str, reason: Any, json_mode: bool, raw: Any) -> Finish:
    if not isinstance(reason, str):
        raise _bad(provider, "stop_reason is not a string", raw)
    if json_mode and reason == "tool_use":
        return Finish("stop")  # the forced JSON tool is the answer, not a call to make
    return Finish(STOP_REASONS.get(reason, reason))


class _Blocks:
    """The content blocks of one reply, by their index: what each one's deltas become."""

    def __init__(self, request: CompletionRequest, *, whole: bool) -> None:
        self.provider = request.provider
        self.whole = whole  # a whole message: each tool_use block carries its input
        self.json_tool = json_tool_name(request)
        self.kinds: dict[int, str] = {}  # block index -> "text", "thinking", "json", "tool"
        self.calls: dict[int, int] = {}  # block index -> tool call number
        self.usage: dict[str, int] = {}

    def start(self, index: Any, block: Any, raw: Any) -> Iterator[Event]:
        if not isinstance(index, int) or isinstance(index, bool) or not isinstance(block,
                                                                                   Mapping):
            raise _bad(self.provider, "a content block has no integer index or no object",
                       raw)
        kind = block.get("type")
        if kind == "text":
            self.kinds[index] = "text"
            text = _string(self.provider, block.get("text", ""), "a text block's text", raw)
            if text:
                yield TextDelta(text)
        elif kind == "thinking":
            self.kinds[index] = "thinking"
            text = _string(self.provider, block.get("thinking", ""), "a thinking block", raw)
            if text:
                yield ReasoningDelta(text)
        elif kind == "tool_use":
            yield from self._tool(index, block, raw)
        else:  # redacted_thinking, server tools: nothing this plugin shows
            self.kinds[index] = "skip"

    def _tool(self, index: int, block: Mapping[str, Any], raw: Any) -> Iterator[Event]:
        name = _string(self.provider, block.get("name"), "a tool_use block's name", raw)
        given = block.get("input")
        if not isinstance(given, Mapping):
            raise _bad(self.provider, "a tool_use block's input is not an object", raw)
        # Streamed, the input starts as {} and comes in input_json_delta fragments.
        arguments = json.dumps(given) if given or self.whole else ""
        if name == self.json_tool:
            self.kinds[index] = "json"
            if arguments:
                yield TextDelta(arguments)
            return
        call_id = _string(self.provider, block.get("id"), "a tool_use block's id", raw)
        self.kinds[index] = "tool"
        self.calls[index] = len(self.calls)
        yield ToolCallDelta(self.calls[index], id=call_id, name=name, arguments=arguments)

    def delta(self, index: Any, delta: Any, raw: Any) -> Iterator[Event]:
        kind = self.kinds.get(index) if isinstance(index, int) else None
        if kind is None or not isinstance(delta, Mapping):
            raise _bad(self.provider, "a content_block_delta for no started block", raw)
        wire = delta.get("type")
        if wire == "text_delta" and kind == "text":
            yield TextDelta(_string(self.provider, delta.get("text"), "text_delta", raw))
        elif wire == "thinking_delta" and kind == "thinking":
            yield ReasoningDelta(_string(self.provider, delta.get("thinking"),
                                         "thinking_delta", raw))
        elif wire == "input_json_delta" and kind in ("tool", "json"):
            fragment = _string(self.provider, delta.get("partial_json"), "partial_json", raw)
            if fragment and kind == "json":
                yield TextDelta(fragment)
            elif fragment:
                yield ToolCallDelta(self.calls[index], arguments=fragment)
        elif wire not in ("signature_delta", "citations_delta") and kind != "skip":
            raise _bad(self.provider, f"a {wire} delta in a {kind} block", raw)


def _object(provider: str, payload: str) -> Mapping[str, Any]:
    try:
        data = json.loads(payload)
    except json.JSONDecodeError as error:
        raise _bad(provider, "an SSE event is not JSON", payload) from error
    if not isinstance(data, Mapping):
        raise _bad(provider, "an SSE event is not a JSON object", payload)
    return data


def _event(blocks: _Blocks, request: CompletionRequest, data: Mapping[str, Any],
           raw: str) -> Iterator[Event]:
    kind = data.get("type")
    if kind == "message_start":
        message = data.get("message")
        if not isinstance(message, Mapping):
            raise _bad(blocks.provider, "message_start has no message object", raw)
        blocks.usage.update(_counts(blocks.provider, message.get("usage") or {}, raw))
    elif kind == "content_block_start":
        yield from blocks.start(data.get("index"), data.get("content_block"), raw)
    elif kind == "content_block_delta":
        yield from blocks.delta(data.get("index"), data.get("delta"), raw)
    elif kind == "message_delta":
        # Its counts are cumulative: they replace message_start's where both give one.
        blocks.usage.update(_counts(blocks.provider, data.get("usage") or {}, raw))
        yield usage_of(blocks.usage)
        delta = data.get("delta")
        reason = delta.get("stop_reason") if isinstance(delta, Mapping) else None
        if reason is not None:
            yield _finish(blocks.provider, reason, blocks.json_tool is not None, raw)
    elif kind == "error":
        raise stream_error(request.provider, request.model.id, data.get("error"))
    elif kind not in ("content_block_stop", "ping", "message_stop"):
        raise _bad(blocks.provider, f"an unknown event type {kind!r}", raw)


async def _stream(request: CompletionRequest, response: HttpResponse) -> AsyncIterator[Event]:
    await response.refuse_html()
    blocks, started = _Blocks(request, whole=False), False
    async for payload in sse_data(response.iter_lines()):
        data = _object(request.provider, payload)
        if not started and data.get("type") not in ("message_start", "error", "ping"):
            raise _bad(request.provider, "the stream does not begin with message_start",
                       payload)
        started = True
        for event in _event(blocks, request, data, payload):
            yield event
        if data.get("type") == "message_stop":
            return
    raise _bad(request.provider, "the stream ended before message_stop" if started else
               "the stream ended without any event (an empty reply)")


async def _whole(request: CompletionRequest, response: HttpResponse) -> AsyncIterator[Event]:
    provider = request.provider
    await response.refuse_html()
    data = await response.json()
    if not isinstance(data, Mapping):
        raise _bad(provider, "the reply is not a JSON object", data)
    if data.get("type") == "error":
        raise stream_error(provider, request.model.id, data.get("error"))
    content = data.get("content")
    if data.get("type") != "message" or not isinstance(content, list):
        raise _bad(provider, "the reply is not a message with a content list", data)
    blocks = _Blocks(request, whole=True)
    for index, block in enumerate(content):
        for event in blocks.start(index, block, data):
            yield event
    blocks.usage.update(_counts(provider, data.get("usage") or {}, data))
    yield usage_of(blocks.usage)
    if data.get("stop_reason") is not None:
        yield _finish(provider, data["stop_reason"], blocks.json_tool is not None, data)


async def parse_messages(request: CompletionRequest, response: HttpResponse
                         ) -> AsyncIterator[Event]:
    """Yield the events of a Messages reply; the content type says whether it streamed. An
    async generator: nothing runs, and nothing raises, until it is iterated."""
    streamed = response.content_type == "text/event-stream" or (
        request.stream and response.content_type != "application/json")
    async for event in (_stream if streamed else _whole)(request, response):
        yield event
