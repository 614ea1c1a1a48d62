"""`POST /v1/messages`: the checked request's answer (answers.py), as one `message` object or
streamed as the API streams it (message_start, a ping, each block's content_block_start,
deltas and content_block_stop, message_delta with the stop reason and usage, message_stop),
and the protocol faults of docs/faults.md."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from jackfield.testing import FAULTS_KEY, drop_connection, request_fault

from .answers import Answer, answer_for, stream_pieces
from .checks import check_messages_body
from .models import model_for
from .refusals import read_body, refusals

__all__ = ["create_message", "message_events"]

_DROP_AFTER = 5  # drop_mid_stream: events sent first (two of them text deltas)
_INVALID = (b"event: message_start\ndata: this is not JSON\n\n",
            b'event: content_block_delta\ndata: {"type": "content_block_delta", \n\n',
            b'event: message_stop\ndata: {"type": "message_stop"}\n\n')


def _message(body: Mapping[str, Any], answer: Answer, blocks: list[dict[str, Any]],
             done: bool) -> dict[str, Any]:
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:24]
    usage = answer.usage() if done else {**answer.usage(), "output_tokens": 1}
    return {"id": f"msg_{digest}", "type": "message", "role": "assistant",
            "model": body["model"], "content": blocks,
            "stop_reason": answer.stop_reason if done else None,
            "stop_sequence": answer.stop_sequence if done else None, "usage": usage}


def message_events(body: Mapping[str, Any], answer: Answer) -> list[dict[str, Any]]:
    """Return the events of a streamed answer, in the API's order."""
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": _message(body, answer, [], done=False)}]
    for index, block in enumerate(answer.blocks):
        start = {"text": {"type": "text", "text": ""},
                 "thinking": {"type": "thinking", "thinking": "", "signature": ""},
                 }.get(block["type"], {**block, "input": {}})
        events.append({"type": "content_block_start", "index": index, "content_block": start})
        if index == 0:
            events.append({"type": "ping"})
        events += [{"type": "content_block_delta", "index": index, "delta": delta}
                   for delta in stream_pieces(block)]
        events.append({"type": "content_block_stop", "index": index})
    if not answer.blocks:
        events.append({"type": "ping"})
    events.append({"type": "message_delta", "delta": {"stop_reason": answer.stop_reason,
                                                      "stop_sequence": answer.stop_sequence},
                   "usage": {"output_tokens": answer.output_tokens}})
    events.append({"type": "message_stop"})
    return events


def _sse(event: Mapping[str, Any]) -> bytes:
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


async def _stream(request: web.Request, body: Mapping[str, Any], answer: Answer,
                  fault: str | None) -> web.StreamResponse:
    response = web.StreamResponse(headers={"content-type": "text/event-stream; charset=utf-8",
                                           "cache-control": "no-cache"})
    await response.prepare(request)
    if fault == "invalid_lines":
        for line in _INVALID:
            await response.write(line)
        await response.write_eof()
        return response
    for number, event in enumerate(message_events(body, answer)):
        if fault == "drop_mid_stream" and number == _DROP_AFTER:
            await asyncio.sleep(request.app[FAULTS_KEY].drop_pause)
            await drop_connection(request)
            return response
        await response.write(_sse(event))
    await response.write_eof()
    return response


async def _whole(request: web.Request, body: Mapping[str, Any], answer: Answer,
                 fault: str | None) -> web.StreamResponse:
    payload = json.dumps(_message(body, answer, list(answer.blocks), done=True)).encode()
    if fault == "invalid_lines":
        return web.Response(body=b"".join(_INVALID), content_type="application/json")
    if fault != "drop_mid_stream":
        return web.Response(body=payload, content_type="application/json")
    response = web.StreamResponse(headers={"content-type": "application/json",
                                           "content-length": str(len(payload))})
    await response.prepare(request)
    await response.write(payload[:len(payload) // 2])
    await asyncio.sleep(request.app[FAULTS_KEY].drop_pause)
    await drop_connection(request)
    return response


@refusals
async def create_message(request: web.Request) -> web.StreamResponse:
    """POST /v1/messages."""
    body = await read_body(request)
    _, turns = check_messages_body(body, lambda model_id: model_for(request, model_id))
    answer = answer_for(body, turns)
    fault = request_fault(request)
    if body.get("stream"):
        return await _stream(request, body, answer, fault)
    return await _whole(request, body, answer, fault)
