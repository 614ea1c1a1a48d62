"""The floor of measure 3: the least a correct OpenAI-to-AmigoChat proxy on aiohttp must do.

One route, POST /v1/chat/completions (and GET /health for the harness's readiness check): read
and parse the OpenAI body, build the AmigoChat request as the limit does
(bench/workers/raw_worker.py: the same headers and body fields, a fresh chatId and device uuid
per call, the messages, model and stream of the OpenAI body; personaId is the raw worker's,
gpt-4o-mini's, the model measure 3 asks for), send it through one shared aiohttp session
(no pool cap) and translate the reply: a `chat.completion` object, or for a streamed call
each upstream `data:` event parsed and written again as a `chat.completion.chunk`, then
`data: [DONE]`. No auth, no validation, no logs, no retries:
what this costs per call is what any aiohttp proxy pays on this machine before it adds a
feature. Run with bench/workers on PYTHONPATH. Usage: floor_proxy.py EMULATOR_URL PORT
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web
from benchloop import PERSONA
from raw_worker import HEADERS

SESSION = web.AppKey("session", aiohttp.ClientSession)
UPSTREAM = web.AppKey("upstream", str)


def upstream_body(openai: dict[str, Any], chat_id: str) -> bytes:
    """Return the AmigoChat body for an OpenAI request (the raw worker's fields and values)."""
    return json.dumps({
        "chatId": chat_id, "frequency_penalty": 0, "max_tokens": 4000,
        "messages": openai["messages"], "model": openai["model"], "personaId": PERSONA,
        "presence_penalty": 0, "stream": bool(openai.get("stream")), "temperature": 0.5,
        "top_p": 0.95,
    }).encode()


async def chat_completions(request: web.Request) -> web.StreamResponse:
    openai = json.loads(await request.read())
    chat_id = str(uuid.uuid4())
    headers = HEADERS | {"x-device-uuid": str(uuid.uuid4())}
    async with request.app[SESSION].post(request.app[UPSTREAM], headers=headers,
                                         data=upstream_body(openai, chat_id)) as upstream:
        if upstream.status != 200:
            return web.Response(status=502, body=await upstream.read(),
                                content_type="application/json")
        base = {"id": f"chatcmpl-{chat_id}", "created": int(time.time()),
                "model": openai["model"]}
        if not openai.get("stream"):
            return completion(base, json.loads(await upstream.read()))
        response = web.StreamResponse(headers={"content-type": "text/event-stream",
                                               "cache-control": "no-cache"})
        await response.prepare(request)
        async for line in upstream.content:
            if not line.startswith(b"data: ") or line.startswith(b"data: [DONE]"):
                continue
            await response.write(chunk(base, json.loads(line[6:])))
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


def completion(base: dict[str, Any], upstream: dict[str, Any]) -> web.Response:
    """Return the OpenAI chat.completion for the upstream's non-streamed reply."""
    choice = upstream["choices"][0]
    reply = base | {"object": "chat.completion", "choices": [{
        "index": 0, "message": {"role": "assistant", "content": choice["message"]["content"]},
        "finish_reason": choice.get("finish_reason") or "stop"}]}
    if "usage" in upstream:
        reply["usage"] = upstream["usage"]
    return web.Response(body=json.dumps(reply).encode(), content_type="application/json")


def chunk(base: dict[str, Any], event: dict[str, Any]) -> bytes:
    """Return one upstream stream event as an OpenAI chat.completion.chunk SSE event."""
    choices = []
    if event.get("choices"):
        upstream = event["choices"][0]
        content = upstream.get("delta", {}).get("content")
        choices = [{"index": 0, "delta": {"content": content} if content else {},
                    "finish_reason": upstream.get("finish_reason")}]
    data = base | {"object": "chat.completion.chunk", "choices": choices}
    if "usage" in event:
        data["usage"] = event["usage"]
    return b"data: " + json.dumps(data).encode() + b"\n\n"


async def health(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def create_app(emulator_url: str) -> web.Application:
    app = web.Application()
    app[UPSTREAM] = emulator_url + "/v1/chat/completions"

    async def client_session(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            app[SESSION] = session
            yield

    app.cleanup_ctx.append(client_session)
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_get("/health", health)
    return app


if __name__ == "__main__":
    web.run_app(create_app(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]),
                access_log=None, print=None)
