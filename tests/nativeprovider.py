"""A provider with native tools, JSON modes, image input and reasoning, and its loopback
service: both speak OpenAI's chat-completions wire, so tests of the unified call, the server
and the real clients have a model that supports everything.

The service answers by rule unless a test queues a reply in `NativeServer.script`:
- with tools (and tool_choice not "none"), it calls the named tool, or the first one, with
  arguments that satisfy the tool's schema (`instance_of`); after a tool result, it says so;
- with a json_schema response format, it answers a JSON instance of the schema;
  with json_object, {"answer": <the last user text>};
- otherwise "You said: <last user text>" (plus " [n images]" when images came).
Reasoning models answer with "Thinking about it." as reasoning first.

`DiscoveringProvider` is the same provider as a real OpenAI-compatible endpoint's plugin
would be: it asks the service for its models (GET /v1/models), passes unlisted pinned ids
through, embeds (POST /v1/embeddings) and reads the service's error replies.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

import attrs
from aiohttp import web

from jackfield.provider import (
    SAMPLING,
    Capabilities,
    CompletionRequest,
    EmbeddingRequest,
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
    ReasoningDelta,
    ResponseFormatError,
    Setting,
    TextDelta,
    ToolCallDelta,
    UnknownModelError,
    Usage,
    Vector,
    error_for_status,
    hookimpl,
    sse_data,
)
from jackfield.testing import new_app, words_of

ALL = Capabilities(tools=True, image_input=True, json_object=True, json_schema=True, stop=True,
                   seed=True, reasoning=False, logprobs=False, sampling=SAMPLING)


class NativeProvider:
    """Provider "native": omni (everything), thinker (also reasoning), and plain (text only);
    `extra_models` adds more (a model whose capabilities are all unknown, say)."""

    def __init__(self, name: str = "native", extra_models: Iterable[ModelSpec] = ()) -> None:
        self.name = name
        self.__name__ = name
        self.extra_models = tuple(extra_models)

    @hookimpl
    def jackfield_provider(self) -> ProviderSpec:
        return ProviderSpec(
            name=self.name, base_url="http://127.0.0.1:9",
            models=(ModelSpec("omni", capabilities=ALL),
                    ModelSpec("thinker", capabilities=Capabilities(
                        tools=True, json_object=True, json_schema=True, reasoning=True,
                        stop=True, seed=True, sampling=SAMPLING)),
                    ModelSpec("plain"), *self.extra_models),
            default_model="omni", aliases={"gpt-4o": "omni"})

    @hookimpl
    def jackfield_build_request(self, request: CompletionRequest,
                                config: ProviderConfig) -> HttpRequest:
        body = {"model": request.model.id, "stream": request.stream,
                "messages": [m.to_dict() for m in request.messages],
                **request.params.to_openai(), **request.options}
        return HttpRequest("POST", config.url("/v1/chat/completions"), json=body,
                           headers={"content-type": "application/json"}, stream=request.stream)

    @hookimpl
    def jackfield_parse_response(self, request: CompletionRequest,
                                 response: HttpResponse) -> AsyncIterator[Any]:
        return _parse(request, response)


def _usage(data: Mapping[str, Any]) -> Usage | None:
    usage = data.get("usage")
    if not isinstance(usage, Mapping):
        return None
    return Usage(usage.get("prompt_tokens"), usage.get("completion_tokens"),
                 usage.get("total_tokens"))


def _delta_events(delta: Mapping[str, Any]) -> list[Any]:
    events: list[Any] = []
    if delta.get("reasoning_content"):
        events.append(ReasoningDelta(delta["reasoning_content"]))
    if delta.get("content"):
        events.append(TextDelta(delta["content"]))
    for call in delta.get("tool_calls") or ():
        function = call.get("function") or {}
        events.append(ToolCallDelta(call.get("index", 0), call.get("id"), function.get("name"),
                                    function.get("arguments") or ""))
    return events


async def _parse(request: CompletionRequest, response: HttpResponse) -> AsyncIterator[Any]:
    if not request.stream:
        data = await response.json()
        if "error" in data:
            raise error_for_status(request.provider, 500, body=json.dumps(data))
        choice = data["choices"][0]
        message = dict(choice["message"])
        for index, call in enumerate(message.pop("tool_calls", None) or ()):
            message.setdefault("tool_calls", []).append(call | {"index": index})
        for event in _delta_events(message):
            yield event
        if (choice.get("logprobs") or {}).get("content"):
            yield Logprobs(choice["logprobs"]["content"])
        usage = _usage(data)
        if usage is not None:
            yield usage
        yield Finish(choice.get("finish_reason") or "stop")
        return
    async for payload in sse_data(response.iter_lines()):
        if payload == "[DONE]":
            return
        data = json.loads(payload)
        usage = _usage(data)
        if usage is not None:
            yield usage
        for choice in data.get("choices") or ():
            for event in _delta_events(choice.get("delta") or {}):
                yield event
            if (choice.get("logprobs") or {}).get("content"):
                yield Logprobs(choice["logprobs"]["content"])
            if choice.get("finish_reason"):
                yield Finish(choice["finish_reason"])
    raise ResponseFormatError(request.provider, "the stream ended without [DONE]")


STATIC_CAPABILITIES = {"omni": ALL, "plain": Capabilities()}


class DiscoveringProvider(NativeProvider):
    """The native provider as an OpenAI-compatible endpoint's plugin: models from GET
    /v1/models (known ids keep their capabilities, ids starting "embed" are embedding
    models, any other is all "unknown"), unlisted pinned ids passed through, embeddings,
    and the service's {"error": ...} replies read (404 model_not_found -> UnknownModelError,
    400 -> InvalidRequestError with its param)."""

    def __init__(self, name: str = "disco") -> None:
        super().__init__(name)

    @hookimpl
    def jackfield_provider(self) -> ProviderSpec:
        return ProviderSpec(
            name=self.name, base_url="http://127.0.0.1:9",
            models=(ModelSpec("omni", capabilities=ALL), ModelSpec("plain")),
            default_model="omni", pass_through=True,
            settings={"api_key": Setting("sent as a bearer token when set")})

    @staticmethod
    def _auth(config: ProviderConfig) -> dict[str, str]:
        key = config.get("api_key")
        return {"authorization": f"Bearer {key}"} if key else {}

    @hookimpl
    async def jackfield_discover_models(self, provider: ProviderSpec, config: ProviderConfig,
                                        transport: ProviderTransport) -> list[ModelSpec]:
        data = await transport.fetch_json(HttpRequest("GET", config.url("/v1/models"),
                                                      headers=self._auth(config)))
        models = []
        for entry in data["data"]:
            model_id = entry["id"]
            if model_id.startswith("embed"):
                models.append(ModelSpec(model_id, kind="embedding"))
            else:
                models.append(ModelSpec(model_id, capabilities=STATIC_CAPABILITIES.get(
                    model_id, Capabilities.unknown())))
        return models

    @hookimpl
    def jackfield_error_reply(self, request: ProviderRequest | None,
                              reply: ErrorReply) -> JackfieldError | None:
        error = reply.error_object()
        message = str(error.get("message") or reply.text)
        if error.get("code") == "model_not_found":
            return UnknownModelError.from_service(reply.provider, reply.model or "?", message)
        if reply.status == 400:
            return InvalidRequestError(message, param=error.get("param"))
        return None

    @hookimpl
    def jackfield_build_request(self, request: ProviderRequest,
                                config: ProviderConfig) -> HttpRequest:
        if not isinstance(request, EmbeddingRequest):
            built = NativeProvider.jackfield_build_request(self, request, config)
            return attrs.evolve(built, headers={**built.headers, **self._auth(config)})
        body: dict[str, Any] = {"model": request.model.id, "input": list(request.inputs)}
        if request.dimensions is not None:
            body["dimensions"] = request.dimensions
        return HttpRequest("POST", config.url("/v1/embeddings"), json=body,
                           headers={"content-type": "application/json", **self._auth(config)})

    @hookimpl
    def jackfield_parse_response(self, request: ProviderRequest,
                                 response: HttpResponse) -> AsyncIterator[Any]:
        if isinstance(request, EmbeddingRequest):
            return _parse_embeddings(response)
        return _parse(request, response)


async def _parse_embeddings(response: HttpResponse) -> AsyncIterator[Any]:
    data = await response.json()
    for entry in data["data"]:
        yield Vector(entry["index"], entry["embedding"])
    usage = data.get("usage") or {}
    yield Usage(usage.get("prompt_tokens"), None, usage.get("total_tokens"))


def vector_of(text: str, dimensions: int = 3) -> list[float]:
    """Return the service's embedding of text: numbers that depend on every character."""
    seed = sum((index + 1) * byte for index, byte in enumerate(text.encode()))
    return [((seed * (place + 7)) % 997) / 997 - 0.5 for place in range(dimensions)]


def instance_of(schema: Mapping[str, Any], root: Mapping[str, Any] | None = None) -> Any:
    """Return a small value that satisfies schema (objects, arrays, scalars, enums, $ref)."""
    root = schema if root is None else root
    if "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return instance_of(target, root)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return instance_of(schema[key][0], root)
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: instance_of(sub, root) for name, sub in properties.items()}
    if kind == "array":
        return [instance_of(schema.get("items", {"type": "string"}), root)]
    return {"string": "sunny", "integer": 7, "number": 1.5, "boolean": True,
            "null": None}[kind]


class NativeServer:
    """The native provider's service; `script` queues whole replies (message dicts).

    `fail` queues error statuses answered first, one per request; with `hold` set, a
    request (past `fail`) waits for the event before answering; `finish` overrides the
    finish reason sent; `usage=False` leaves usage out.

    GET /v1/models lists `listed` (answered with `listing_status` instead when set, and
    counted in `listings`); with `known_only`, a chat or embedding request for a model not
    in `listed` gets OpenAI's 404 model_not_found. `refuse` queues (status, error object)
    replies. Asked for logprobs, replies carry one entry per streamed piece. `headers`
    holds each chat and embedding request's headers, as received.
    """

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self.script: list[dict[str, Any]] = []
        self.fail: list[int] = []
        self.hold: asyncio.Event | None = None
        self.finish: str | None = None
        self.usage = True
        self.listed = ["omni", "thinker", "plain", "embedder"]
        self.listing_status: int | None = None
        self.listings = 0
        self.known_only = False
        self.refuse: list[tuple[int, dict[str, Any]]] = []
        self.headers: list[dict[str, str]] = []
        # Images come inline as data: URLs; OpenAI's own service takes bodies of many MiB.
        self.app = new_app(client_max_size=64 * 2**20)
        self.app.router.add_post("/v1/chat/completions", self.chat)
        self.app.router.add_get("/v1/models", self.models)
        self.app.router.add_post("/v1/embeddings", self.embeddings)

    async def models(self, _request: web.Request) -> web.Response:
        self.listings += 1
        if self.listing_status is not None:
            return web.json_response({"error": {"message": "listing is down"}},
                                     status=self.listing_status)
        return web.json_response({"object": "list", "data": [
            {"id": model, "object": "model", "created": 0, "owned_by": "native"}
            for model in self.listed]})

    def _refusal(self, body: Mapping[str, Any]) -> web.Response | None:
        if self.refuse:
            status, error = self.refuse.pop(0)
            return web.json_response({"error": error}, status=status)
        if self.known_only and body.get("model") not in self.listed:
            return web.json_response({"error": {
                "message": f"The model `{body.get('model')}` does not exist.",
                "type": "invalid_request_error", "param": "model",
                "code": "model_not_found"}}, status=404)
        return None

    async def embeddings(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.seen.append(body)
        self.headers.append(dict(request.headers))
        refusal = self._refusal(body)
        if refusal is not None:
            return refusal
        size = body.get("dimensions") or 3
        tokens = sum(len(text.split()) for text in body["input"])
        return web.json_response({
            "object": "list", "model": body["model"],
            "data": [{"object": "embedding", "index": index,
                      "embedding": vector_of(text, size)}
                     for index, text in enumerate(body["input"])],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

    def _reply(self, body: Mapping[str, Any]) -> dict[str, Any]:
        if self.script:
            return self.script.pop(0)
        messages = body["messages"]
        last = messages[-1]
        text = last.get("content")
        if isinstance(text, list):
            images = sum(part.get("type") == "image_url" for part in text)
            text = "".join(part.get("text", "") for part in text) + (
                f" [{images} images]" if images else "")
        tools = body.get("tools") or []
        choice = body.get("tool_choice", "auto")
        if tools and choice != "none" and last["role"] != "tool":
            chosen = tools[0]["function"]
            if isinstance(choice, Mapping):
                chosen = next(t["function"] for t in tools
                              if t["function"]["name"] == choice["function"]["name"])
            arguments = instance_of(chosen.get("parameters") or {"type": "object"})
            return {"role": "assistant", "content": None, "tool_calls": [
                {"id": f"call_{len(self.seen)}", "type": "function",
                 "function": {"name": chosen["name"], "arguments": json.dumps(arguments)}}]}
        if last["role"] == "tool":
            text = f"The tool said {last['content']}"
        response_format = body.get("response_format") or {}
        if response_format.get("type") == "json_schema":
            text = json.dumps(instance_of(response_format["json_schema"]["schema"]))
        elif response_format.get("type") == "json_object":
            text = json.dumps({"answer": text})
        else:
            text = f"You said: {text}" if last["role"] != "tool" else text
        reply: dict[str, Any] = {"role": "assistant", "content": text}
        if body["model"] == "thinker":
            reply["reasoning_content"] = "Thinking about it."
        return reply

    async def chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.seen.append(body)
        self.headers.append(dict(request.headers))
        if self.fail:
            status = self.fail.pop(0)
            return web.json_response({"error": {"message": f"failed with {status}"}},
                                     status=status)
        refusal = self._refusal(body)
        if refusal is not None:
            return refusal
        if self.hold is not None:
            await self.hold.wait()
        reply = self._reply(body)
        finish = self.finish or ("tool_calls" if reply.get("tool_calls") else "stop")
        usage = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8} if (
            self.usage) else None
        pieces = [piece for piece in words_of(reply.get("content") or "") if piece]
        logprobs = [_logprob(piece, len(pieces), body) for piece in pieces] if body.get(
            "logprobs") else None
        if not body["stream"]:
            return web.json_response({
                "id": "chatcmpl-native", "object": "chat.completion", "model": body["model"],
                "choices": [{"index": 0, "message": reply, "finish_reason": finish,
                             "logprobs": None if logprobs is None else {"content": logprobs}}],
                "usage": usage})
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)

        async def send(delta: dict[str, Any], finish_reason: str | None = None,
                       logprob: Any = None, **extra: Any) -> None:
            choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
            if logprob is not None:
                choice["logprobs"] = {"content": [logprob]}
            chunk = {"id": "chatcmpl-native", "object": "chat.completion.chunk",
                     "model": body["model"], "choices": [choice], **extra}
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())

        if reply.get("reasoning_content"):
            await send({"role": "assistant", "reasoning_content": reply["reasoning_content"]})
        for number, piece in enumerate(pieces):
            await send({"content": piece},
                       logprob=None if logprobs is None else logprobs[number])
        for index, call in enumerate(reply.get("tool_calls") or ()):
            arguments = call["function"]["arguments"]
            await send({"tool_calls": [{"index": index, "id": call["id"], "type": "function",
                                        "function": {"name": call["function"]["name"],
                                                     "arguments": ""}}]})
            for start in range(0, len(arguments), 7):  # fragments, as real services send
                await send({"tool_calls": [{"index": index, "function": {
                    "arguments": arguments[start:start + 7]}}]})
        await send({}, finish, usage=usage)
        await response.write(b"data: [DONE]\n\n")
        return response


def _logprob(piece: str, count: int, body: Mapping[str, Any]) -> dict[str, Any]:
    """Return OpenAI's logprob entry for one piece (its top_logprobs as many as asked)."""
    value = -len(piece) / (count + 1)
    entry = {"token": piece, "logprob": value, "bytes": list(piece.encode())}
    return entry | {"top_logprobs": [entry] * min(1, body.get("top_logprobs") or 0)}
