"""A provider whose models live on its service, and that service on loopback: for the tests
of discovery, pass-through, error replies, named instances, embeddings and logprobs.

The service (`ModelService`) lists `models` at GET /v1/models (or misbehaves as `listing`
says), answers chats at POST /v1/chat (JSON, or NDJSON lines when streamed) and embeds at
POST /v1/embeddings; a model it does not have is a 404 in OpenAI's error shape. It counts
every request and keeps the headers it got, so tests can say how often it was asked.

The plugins: `StaticProvider` (build and parse only), `PassingProvider` (+ error hook, for
pass-through), `DiscoveringProvider` (+ discovery). Hooks an object does not have are hooks
its provider does not implement, so each class is a different plugin shape.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from jackfield.provider import (
    Capabilities,
    ErrorReply,
    Finish,
    HttpRequest,
    HttpResponse,
    InvalidRequestError,
    JackfieldError,
    Logprobs,
    ModelSpec,
    ProviderConfig,
    ProviderRequest,
    ProviderSpec,
    ProviderTransport,
    ResponseFormatError,
    Setting,
    TextDelta,
    UnknownModelError,
    Usage,
    Vector,
    hookimpl,
)
from jackfield.testing import new_app

KEY_FALLBACK = "DISCOVERING_TEST_KEY"  # the default provider's fallback key variable
LOGPROB = {"token": "hi", "logprob": -0.25, "bytes": [104, 105], "top_logprobs": []}


class ModelService:
    """The loopback service. `listing` is how GET /models answers: "ok", "500", "html",
    "text" (not JSON), "slow" (waits `delay` seconds first) or "drop" (closes the socket)."""

    def __init__(self, models: Iterable[str] = ("m1", "emb-1")) -> None:
        self.models = list(models)
        self.url = ""  # its /v1 base URL, once started()
        self.listing = "ok"
        self.delay = 0.0
        self.listings = 0
        self.listing_started = 0
        self.calls: list[dict[str, Any]] = []  # each chat or embedding body
        self.headers: list[CIMultiDict[str]] = []  # each request's headers
        self.paths: list[str] = []  # and its path, in the same order
        self.refuse: tuple[int, dict[str, Any]] | None = None  # answer every call with this
        self.vectors: Callable[[list[str]], Any] | None = None  # the embedding reply's data
        self.embed_delay = 0.0  # seconds an embedding reply waits
        self.app = new_app()
        self.app.router.add_get("/v1/models", self._list)
        self.app.router.add_post("/v1/chat", self._chat)
        self.app.router.add_post("/v1/embeddings", self._embed)

    async def _list(self, request: web.Request) -> web.StreamResponse:
        self.listing_started += 1
        self.headers.append(request.headers.copy())
        self.paths.append(request.path)
        if self.listing == "slow":
            await asyncio.sleep(self.delay)
        self.listings += 1
        if self.listing == "500":
            return web.json_response({"error": {"message": "listing is broken today"}},
                                     status=500)
        if self.listing == "html":
            return web.Response(text="<html><body>Sign in</body></html>",
                                content_type="text/html")
        if self.listing == "text":
            return web.Response(text="models: m1, m2", content_type="application/json")
        if self.listing == "drop":
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        data = [{"id": model, "kind": "embedding" if model.startswith("emb") else "chat"}
                for model in self.models]
        return web.json_response({"object": "list", "data": data})

    async def _take(self, request: web.Request) -> tuple[dict[str, Any], web.Response | None]:
        """Record a call; return its body, and the error reply it gets (None: served)."""
        body = await request.json()
        self.calls.append(body)
        self.headers.append(request.headers.copy())
        self.paths.append(request.path)
        if self.refuse is not None:
            return body, web.json_response(self.refuse[1], status=self.refuse[0])
        if body["model"] not in self.models:
            model = body["model"]
            return body, web.json_response({"error": {
                "message": f"model '{model}' not found, try pulling it first",
                "type": "not_found"}}, status=404)
        return body, None

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body, refused = await self._take(request)
        if refused is not None:
            return refused
        text = f"{body['model']} says hi"
        logprobs = [LOGPROB] if body.get("logprobs") else None
        if not body.get("stream"):
            return web.json_response({"text": text, "logprobs": logprobs})
        reply = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await reply.prepare(request)
        for piece in (f"{body['model']} ", "says hi"):
            line = {"text": piece, "logprobs": logprobs}
            await reply.write(json.dumps(line).encode() + b"\n")
        await reply.write_eof()
        return reply

    async def _embed(self, request: web.Request) -> web.StreamResponse:
        body, refused = await self._take(request)
        if refused is not None:
            return refused
        inputs = body["input"]
        await asyncio.sleep(self.embed_delay)
        if self.vectors is not None:
            data = self.vectors(inputs)
        else:
            size = body.get("dimensions") or 3
            data = [{"index": i, "embedding": [float(len(text))] + [0.5] * (size - 1)}
                    for i, text in enumerate(inputs)]
        return web.json_response({"data": data, "usage": {"prompt_tokens": len(inputs),
                                                          "total_tokens": len(inputs)}})


async def started(serve_app: Callable[[web.Application], Awaitable[str]],
                  models: Iterable[str] = ("m1", "emb-1")) -> ModelService:
    """Return a ModelService running on loopback (serve_app: the test kit's fixture)."""
    service = ModelService(models)
    service.url = await serve_app(service.app) + "/v1"
    return service


def _auth(config: ProviderConfig) -> dict[str, str]:
    key = config.get("api_key")
    return {"Authorization": f"Bearer {key}"} if key else {}


class StaticProvider:
    """Provider `name` with a static model list; no discovery, no error hook."""

    def __init__(self, name: str = "disc", *, static: Sequence[ModelSpec] = (),
                 pass_through: bool = False,
                 pass_through_capabilities: Capabilities | None = None) -> None:
        self.name = self.__name__ = name
        self.static = tuple(static)
        self.pass_through = pass_through
        self.capabilities = pass_through_capabilities or Capabilities.unknown()
        self.built: list[ProviderRequest] = []

    @hookimpl
    def jackfield_provider(self) -> ProviderSpec:
        return ProviderSpec(self.name, "http://127.0.0.1:9/v1", self.static,
                            settings={"api_key": Setting("the service's key",
                                                         fallback_env=(KEY_FALLBACK,))},
                            pass_through=self.pass_through,
                            pass_through_capabilities=self.capabilities)

    @hookimpl
    def jackfield_build_request(self, request: ProviderRequest,
                                config: ProviderConfig) -> HttpRequest:
        self.built.append(request)
        headers = {**_auth(config), "X-Plugin": "discovering"}
        if request.model.kind == "embedding":
            assert not hasattr(request, "messages")
            body: dict[str, Any] = {"model": request.model.id, "input": list(request.inputs)}
            if request.dimensions is not None:
                body["dimensions"] = request.dimensions
            return HttpRequest("POST", config.url("embeddings"), headers=headers, json=body)
        body = {"model": request.model.id, "stream": request.stream,
                "messages": [message.to_dict() for message in request.messages],
                **request.params.to_openai()}
        return HttpRequest("POST", config.url("chat"), headers=headers, json=body,
                           stream=request.stream)

    @hookimpl
    async def jackfield_parse_response(self, request: ProviderRequest,
                                       response: HttpResponse) -> AsyncIterator[Any]:
        if request.model.kind == "embedding":
            data = await response.json()
            for item in data["data"]:
                yield Vector(item["index"], item["embedding"])
            yield Usage(prompt_tokens=data["usage"]["prompt_tokens"],
                        total_tokens=data["usage"]["total_tokens"])
            return
        if not request.stream:
            data = await response.json()
            if data.get("logprobs"):
                yield Logprobs(data["logprobs"])
            yield TextDelta(data["text"])
            yield Finish("stop")
            return
        async for line in response.iter_lines():
            if not line.strip():
                continue
            try:
                piece = json.loads(line)
            except ValueError as error:
                raise ResponseFormatError(request.provider, "a line is not JSON") from error
            if piece.get("logprobs"):
                yield Logprobs(piece["logprobs"])
            yield TextDelta(piece["text"])
        yield Finish("stop")


class PassingProvider(StaticProvider):
    """StaticProvider that reads its service's error replies (404 → unknown model, 400 →
    invalid request); `on_error`, when set, answers instead."""

    def __init__(self, name: str = "disc", **kwargs: Any) -> None:
        kwargs.setdefault("pass_through", True)
        super().__init__(name, **kwargs)
        self.replies: list[tuple[ProviderRequest | None, ErrorReply]] = []
        self.on_error: Callable[[ErrorReply], Any] | None = None

    @hookimpl
    def jackfield_error_reply(self, request: ProviderRequest | None,
                              reply: ErrorReply) -> JackfieldError | None:
        self.replies.append((request, reply))
        if self.on_error is not None:
            answer: JackfieldError | None = self.on_error(reply)
            return answer
        said = reply.error_object()
        if reply.status == 404 and reply.model is not None:
            return UnknownModelError(reply.model, detail=str(said.get("message", "")))
        if reply.status == 400:
            return InvalidRequestError(str(said.get("message", "refused")),
                                       param=said.get("param"))
        return None


class DiscoveringProvider(PassingProvider):
    """PassingProvider whose models come from GET {base}/models; `on_discover`, when set,
    is awaited instead (to return a wrong shape, say)."""

    def __init__(self, name: str = "disc", **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.asked: list[str] = []  # the providers the hook was called for, in order
        self.on_discover: Callable[[ProviderConfig], Any] | None = None

    @hookimpl
    async def jackfield_discover_models(self, provider: ProviderSpec, config: ProviderConfig,
                                        transport: ProviderTransport) -> Any:
        self.asked.append(provider.name)
        if self.on_discover is not None:
            return await self.on_discover(config)
        data = await transport.fetch_json(HttpRequest("GET", config.url("models"),
                                                      headers=_auth(config)))
        return [ModelSpec(item["id"], kind=item["kind"], capabilities=Capabilities.unknown())
                for item in data["data"]]
