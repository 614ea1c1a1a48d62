"""`POST /v1/chat/completions`: the answer (see answers.py), streamed as OpenAI streams it
(`chat.completion.chunk`s, a usage chunk with `stream_options.include_usage`, `[DONE]`) or
as one `chat.completion` object; and the protocol faults of docs/faults.md."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Mapping
from typing import Any

import attrs
from aiohttp import web

from jackfield.testing import drop_connection, request_fault, words_of

from .answers import instance_of, last_user_text, logprob_entries, reply_text, tool_call_for
from .checks import CHAT_FIELDS, check_chat
from .models import model_for
from .validation import json_body, refusals

__all__ = ["Answer", "answer_for", "chat_completions"]

_DROP_AFTER = 2  # drop_mid_stream: chunks sent before the connection is aborted
_INVALID_LINES = (b"data: this is not JSON\n\n", b'data: {"choices": [{"delta": \n\n',
                  b"data: [DONE]\n\n")
_DROP_PAUSE = 0.05  # lets the pieces reach the client before the drop


@attrs.frozen
class Answer:
    """What the emulator answers: content pieces or tool calls, reasoning, why it ended."""

    pieces: tuple[str, ...]
    reasoning: tuple[str, ...] = ()
    reasoning_key: str = "reasoning_content"
    tool_calls: tuple[dict[str, Any], ...] = ()
    finish: str = "stop"
    prompt_tokens: int = 0

    @property
    def content(self) -> str | None:
        return None if self.tool_calls else "".join(self.pieces)

    def usage(self) -> dict[str, int]:
        completion = len(self.pieces) + len(self.reasoning) + 8 * len(self.tool_calls)
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": completion,
                "total_tokens": self.prompt_tokens + completion}


def _stopped(text: str, stop: Any) -> tuple[str, bool]:
    stops = [stop] if isinstance(stop, str) else list(stop or [])
    cuts = [text.index(s) for s in stops if s and s in text]
    return (text[:min(cuts)], True) if cuts else (text, False)


def _content(body: Mapping[str, Any], model: str) -> str:
    messages, words = body["messages"], last_user_text(body["messages"])
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        schema = response_format["json_schema"].get("schema", {})
        return json.dumps(instance_of(schema, words, "response_format.json_schema.schema"))
    if response_format.get("type") == "json_object":
        return json.dumps({"answer": words})
    return reply_text(messages, model)


def answer_for(body: Mapping[str, Any]) -> Answer:
    """Return the deterministic answer to a checked chat body."""
    messages, model = body["messages"], body["model"]
    prompt_tokens = sum(len(str(m.get("content") or "").split()) + 3 for m in messages)
    words = last_user_text(messages)
    reasoning: tuple[str, ...] = ()
    key = "reasoning" if "thinking" in model else "reasoning_content"
    if "reasoner" in model or "thinking" in model:
        reasoning = tuple(words_of(f"Thinking about: {words}"))
    tools, choice = body.get("tools") or [], body.get("tool_choice")
    if tools and choice != "none" and messages[-1].get("role") != "tool":
        call = tool_call_for(tools, choice, words, len(messages))
        return Answer((), reasoning, key, (call,), "tool_calls", prompt_tokens)
    text, stopped = _stopped(_content(body, model), body.get("stop"))
    pieces = words_of(text) if text else []
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    finish = "length" if limit is not None and len(pieces) > limit and not stopped else "stop"
    return Answer(tuple(pieces[:limit] if limit else pieces), reasoning, key, (), finish,
                  prompt_tokens)


def _logprobs(body: Mapping[str, Any], pieces: tuple[str, ...]) -> dict[str, Any] | None:
    if not body.get("logprobs"):
        return None
    return {"content": logprob_entries(pieces, body.get("top_logprobs") or 0), "refusal": None}


def _header(body: Mapping[str, Any], kind: str) -> dict[str, Any]:
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:24]
    return {"id": f"chatcmpl-{digest}", "object": kind, "created": int(time.time()),
            "model": body["model"], "system_fingerprint": f"fp_{digest[:10]}"}


def _completion(body: Mapping[str, Any], answer: Answer) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": answer.content, "refusal": None}
    if answer.reasoning:
        message[answer.reasoning_key] = "".join(answer.reasoning)
    if answer.tool_calls:
        message["tool_calls"] = list(answer.tool_calls)
    choices = [{"index": n, "message": message, "finish_reason": answer.finish,
                "logprobs": _logprobs(body, answer.pieces)} for n in range(body.get("n") or 1)]
    return {**_header(body, "chat.completion"), "choices": choices, "usage": answer.usage()}


def _deltas(body: Mapping[str, Any], answer: Answer) -> list[tuple[dict[str, Any], Any]]:
    """Return (delta, logprobs) per chunk, in order."""
    first: dict[str, Any] = {"role": "assistant",
                             "content": None if answer.tool_calls else ""}
    deltas: list[tuple[dict[str, Any], Any]] = [(first, None)]
    deltas += [({answer.reasoning_key: piece}, None) for piece in answer.reasoning]
    deltas += [({"content": piece}, _logprobs(body, (piece,))) for piece in answer.pieces]
    for index, call in enumerate(answer.tool_calls):
        head = {"index": index, "id": call["id"], "type": "function",
                "function": {"name": call["function"]["name"], "arguments": ""}}
        deltas.append(({"tool_calls": [head]}, None))
        arguments = call["function"]["arguments"]
        step = max(1, len(arguments) // 3)
        deltas += [({"tool_calls": [{"index": index, "function": {
            "arguments": arguments[at:at + step]}}]}, None)
            for at in range(0, len(arguments), step)]
    return deltas


def _event(data: Any) -> bytes:
    return b"data: " + json.dumps(data).encode() + b"\n\n"


async def _stream(request: web.Request, body: Mapping[str, Any], answer: Answer,
                  fault: str | None) -> web.StreamResponse:
    response = web.StreamResponse(headers={"content-type": "text/event-stream",
                                           "cache-control": "no-cache"})
    await response.prepare(request)
    if fault == "invalid_lines":
        for line in _INVALID_LINES:
            await response.write(line)
        await response.write_eof()
        return response
    header = _header(body, "chat.completion.chunk")
    with_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    extra = {"usage": None} if with_usage else {}
    chunks = [{**header, "choices": [{"index": 0, "delta": delta, "logprobs": logprobs,
                                      "finish_reason": None}], **extra}
              for delta, logprobs in _deltas(body, answer)]
    chunks.append({**header, "choices": [{"index": 0, "delta": {}, "logprobs": None,
                                          "finish_reason": answer.finish}], **extra})
    if with_usage:
        chunks.append({**header, "choices": [], "usage": answer.usage()})
    for number, chunk in enumerate(chunks):
        if fault == "drop_mid_stream" and number == _DROP_AFTER:
            await asyncio.sleep(_DROP_PAUSE)
            await drop_connection(request)
            return response
        await response.write(_event(chunk))
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response


async def _whole(request: web.Request, body: Mapping[str, Any], answer: Answer,
                 fault: str | None) -> web.StreamResponse:
    payload = json.dumps(_completion(body, answer)).encode()
    if fault == "invalid_lines":
        return web.Response(body=b"".join(_INVALID_LINES), content_type="application/json")
    if fault != "drop_mid_stream":
        return web.Response(body=payload, content_type="application/json")
    response = web.StreamResponse(headers={"content-type": "application/json",
                                           "content-length": str(len(payload))})
    await response.prepare(request)
    await response.write(payload[:len(payload) // 2])
    await asyncio.sleep(_DROP_PAUSE)
    await drop_connection(request)
    return response


@refusals
async def chat_completions(request: web.Request) -> web.StreamResponse:
    """POST /v1/chat/completions."""
    body = await json_body(request, CHAT_FIELDS, ("model", "messages"))
    model_for(request, body["model"], "chat")
    check_chat(body)
    answer = answer_for(body)
    fault = request_fault(request)
    if body.get("stream"):
        return await _stream(request, body, answer, fault)
    return await _whole(request, body, answer, fault)
