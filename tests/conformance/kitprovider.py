"""A small provider plugin and its emulator for the conformance kit's own tests: `KitProvider()`
keeps every rule; `KitProvider(breaks=...)` breaks exactly one (BREAKS says which).

The protocol ("kit"): `POST /chat` takes {"model", "prompt", "stream", "tools"?, "tool_result"?,
"schema"?, "images"?, "seed"?} and answers {"text", "tool_calls"} or, streamed, SSE lines
`data: {"delta": ...}`, `data: {"call": {...}}` then `data: {"done": true}`; `POST /image`
answers {"data": [{"url"}]} whose link serves a PNG. The emulator produces every fault of
docs/faults.md, the protocol ones included.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

from jackfield.provider import (
    Capabilities,
    CompletionRequest,
    ErrorReply,
    Event,
    Finish,
    HttpRequest,
    HttpResponse,
    Image,
    ImagePart,
    JackfieldError,
    ModelSpec,
    ProviderConfig,
    ProviderSpec,
    ProviderTransport,
    ProviderUnavailableError,
    ResponseFormatError,
    Setting,
    TextDelta,
    ToolCallDelta,
    hookimpl,
    image_urls,
    sse_data,
)
from jackfield.testing import (
    FAULTS_KEY,
    drop_connection,
    new_app,
    png_bytes,
    request_fault,
    words_of,
)

BREAKS = {
    "content_errors": "returns what is not its protocol (an HTML page, bad lines) as text",
    "leaky": "reads the rest of the body when the caller leaves the stream",
    "retry_after": "turns a 429 into ProviderUnavailableError, losing Retry-After",
    "tools": "declares tools but never sends them",
    "images": "declares image input but drops the image parts",
    "schema": "declares json_schema but never sends the schema",
    "secret": "logs its token in a log line of its own",
    "chunks": "takes each network chunk for one whole SSE line",
    "swallow_drop": "ends a reply normally when the connection drops mid-stream",
}
CAPABILITIES = Capabilities(tools=True, image_input=True, json_schema=True, seed=True)
log = logging.getLogger("kitprovider")


class KitProvider:
    """The "kit" provider; breaks: one key of BREAKS, or None for a plugin keeping every rule."""

    def __init__(self, breaks: str | None = None, *, emulator: bool = True) -> None:
        assert breaks is None or breaks in BREAKS, breaks
        self.breaks = breaks
        self.__name__ = f"kit_{breaks or 'good'}"
        if not emulator:
            self.jackfield_emulator = None  # as a plugin without the hook

    @hookimpl
    def jackfield_provider(self) -> ProviderSpec:
        return ProviderSpec(
            name="kit", base_url="https://kit.invalid",
            models=(ModelSpec("kit-1", capabilities=CAPABILITIES), ModelSpec("kit-draw", "image")),
            default_model="kit-1",
            settings={"token": Setting(doc="the kit's token", secret=True)},
            auth_hint="Set JACKFIELD_KIT_TOKEN.")

    @hookimpl
    def jackfield_build_request(self, request: CompletionRequest,
                                config: ProviderConfig) -> HttpRequest:
        token = config.require("token")
        if self.breaks == "secret":
            log.info("sending to %s with token %s", config.base_url, token)
        headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
        if request.model.kind == "image":
            return HttpRequest("POST", config.url("/image"), headers=headers,
                               json={"prompt": request.prompt})
        params = request.params
        body: dict[str, Any] = {"model": request.model.id, "stream": request.stream,
                                "prompt": request.messages[-1].content}
        last = request.messages[-1]
        if last.role == "tool":
            body["tool_result"] = last.content
        if params.tools and self.breaks != "tools":
            body["tools"] = [tool.name for tool in params.tools]
        if params.response_format is not None and self.breaks != "schema":
            body["schema"] = dict(params.response_format.schema or {})
        images = [part.data_url for part in last.parts if isinstance(part, ImagePart)]
        if images and self.breaks != "images":
            body["images"] = images
        if params.seed is not None:
            body["seed"] = params.seed
        return HttpRequest("POST", config.url("/chat"), headers=headers, json=body,
                           stream=request.stream)

    @hookimpl
    def jackfield_parse_response(self, request: CompletionRequest, response: HttpResponse,
                                 transport: ProviderTransport) -> AsyncIterator[Event]:
        return _parse(self.breaks, request, response, transport)

    @hookimpl
    def jackfield_error_reply(self, reply: ErrorReply) -> JackfieldError | None:
        if self.breaks == "retry_after" and reply.status == 429:
            return ProviderUnavailableError(reply.provider, "the service is busy")
        return None

    @hookimpl
    def jackfield_emulator(self) -> Callable[[], web.Application]:
        return create_app


async def _lines(breaks: str | None, response: HttpResponse) -> AsyncIterator[str]:
    if breaks != "chunks":
        async for data in sse_data(response.iter_lines()):
            yield data
        return
    async for chunk in response.iter_chunks():  # wrong: a chunk is not a line
        for line in chunk.decode("utf-8", "replace").split("\n"):
            if line.startswith("data: "):
                yield line[6:]


async def _parse(breaks: str | None, request: CompletionRequest, response: HttpResponse,
                 transport: ProviderTransport) -> AsyncIterator[Event]:
    if breaks == "content_errors":
        body = (await response.read()).decode("utf-8", "replace")
        try:
            item = json.loads(body)
            text = item["text"] if isinstance(item, dict) else body
        except (ValueError, KeyError):
            text = body  # what gpt4free's providers do: whatever came back is "the answer"
        yield TextDelta(str(text))
        yield Finish("stop")
        return
    await response.refuse_html()
    if request.model.kind == "image":
        for url in image_urls(request.provider, await response.json(), response.url):
            download = await transport.get(url)
            yield Image(url=url, data=download.data, mime_type=download.content_type)
        yield Finish("stop")
        return
    if not request.stream:
        item = await response.json()
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise ResponseFormatError(request.provider, 'the reply has no "text"', body=str(item))
        if item["text"]:
            yield TextDelta(item["text"])
        for index, call in enumerate(item.get("tool_calls", ())):
            yield ToolCallDelta(index, call["id"], call["name"], json.dumps(call["arguments"]))
        yield Finish("tool_calls" if item.get("tool_calls") else "stop")
        return
    try:
        calls = 0
        async for data in _lines(breaks, response):
            try:
                item = json.loads(data)
            except ValueError:
                raise ResponseFormatError(request.provider, "an event is not JSON",
                                          body=data) from None
            if "delta" in item:
                yield TextDelta(item["delta"])
            elif "call" in item:
                call = item["call"]
                yield ToolCallDelta(calls, call["id"], call["name"], json.dumps(call["arguments"]))
                calls += 1
            elif item.get("done"):
                yield Finish("tool_calls" if calls else "stop")
                return
        raise ResponseFormatError(request.provider, "the stream ended without its done event")
    except ProviderUnavailableError:
        if breaks != "swallow_drop":
            raise
        yield Finish("stop")
    finally:
        if breaks == "leaky":
            async for _ in response.iter_chunks():  # wrong: drains a stream nobody reads
                pass


# -- the emulator ------------------------------------------------------------------------

def _event(item: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(item).encode() + b"\n\n"


async def _reply_type(request: web.Request) -> str:
    try:
        streamed = (await request.json()).get("stream") is True
    except ValueError:
        streamed = False
    return "text/event-stream" if streamed else "application/json"


async def chat(request: web.Request) -> web.StreamResponse:
    """Answer "You said: <prompt>", a call of the first tool, or the schema's fields."""
    if not request.headers.get("authorization", "").startswith("Bearer "):
        return web.json_response({"message": "no token"}, status=401)
    body = await request.json()
    calls = []
    if "tool_result" in body:
        text = f"The tool said: {body['tool_result']}"
    elif body.get("tools"):
        text, calls = "", [{"id": "call_1", "name": body["tools"][0], "arguments": {"word": "k"}}]
    elif "schema" in body:
        text = json.dumps({name: "kit" for name in body["schema"].get("properties", {})})
    else:
        text = f"You said: {body['prompt']}" + (f" ({len(body['images'])} image)"
                                                 if body.get("images") else "")
    fault = request_fault(request)
    if not body["stream"]:
        if fault == "invalid_lines":
            return web.Response(text="data: not json\n", content_type="application/json")
        if fault == "drop_mid_stream":
            response = web.StreamResponse(headers={"content-length": "200"})
            await response.prepare(request)
            await response.write(b'{"text": "You')
            await asyncio.sleep(request.app[FAULTS_KEY].drop_pause)
            await drop_connection(request)
            return response
        return web.json_response({"text": text, "tool_calls": calls})
    response = web.StreamResponse(headers={"content-type": "text/event-stream"})
    await response.prepare(request)
    for number, piece in enumerate(words_of(text)):
        if fault == "drop_mid_stream" and number == 2:
            await asyncio.sleep(request.app[FAULTS_KEY].drop_pause)
            await drop_connection(request)
            return response
        await response.write(_event({"delta": piece}))
    if fault == "invalid_lines":
        await response.write(b"data: this is not JSON\n\n")
    for call in calls:
        await response.write(_event({"call": call}))
    await response.write(_event({"done": True}))
    await response.write_eof()
    return response


async def image(request: web.Request) -> web.Response:
    """Link to a PNG drawn from the prompt (no link under the no_images fault)."""
    prompt = (await request.json())["prompt"]
    if request_fault(request) == "no_images":
        return web.json_response({"data": []})
    return web.json_response({"data": [{"url": f"/files/{len(prompt)}.png"}]})


async def files(request: web.Request) -> web.Response:
    """Serve a PNG."""
    return web.Response(body=png_bytes(request.match_info["name"]), content_type="image/png")


def create_app() -> web.Application:
    """Return the kit emulator (any bearer token is accepted)."""
    app = new_app(fault_endpoints=("/chat", "/image"), reply_type=_reply_type)
    app.router.add_post("/chat", chat)
    app.router.add_post("/image", image)
    app.router.add_get("/files/{name}.png", files)
    return app
