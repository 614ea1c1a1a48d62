"""Streamed logprobs in OpenAI's layout: each `chat.completion.chunk` that carries a piece of
text carries that piece's `logprobs.content` too (code that reads them together otherwise
sees None), and a reply that did not ask for logprobs streams each piece the moment it comes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import attrs
import openai
from openai.types.chat import ChatCompletionChunk
from server_helpers import MakeClient, StartServer

from jackfield import Registry, RetryPolicy
from jackfield.provider import (
    CompletionRequest,
    HttpResponse,
    Logprobs,
    ModelSpec,
    ProviderRequest,
    hookimpl,
)
from jackfield.testing import words_of
from mockprovider import MockServer
from nativeprovider import ALL, NativeProvider, NativeServer

SCORER = ModelSpec("scorer", capabilities=attrs.evolve(ALL, logprobs=True))
USER: Any = [{"role": "user", "content": "four words in all"}]
REPLY = "You said: four words in all"


class SomeLogprobs(NativeProvider):
    """The native provider, dropping the logprobs of pieces that start with " w": a text
    piece followed by more text, not by its logprobs, must go out alone and unchanged."""

    @hookimpl
    def jackfield_parse_response(self, request: ProviderRequest,
                                 response: HttpResponse) -> AsyncIterator[Any]:
        assert isinstance(request, CompletionRequest)
        return _without_w(NativeProvider.jackfield_parse_response(self, request, response))


async def _without_w(events: AsyncIterator[Any]) -> AsyncIterator[Any]:
    async for event in events:
        if not (isinstance(event, Logprobs) and event.content[0]["token"].startswith(" w")):
            yield event


async def _api(provider: NativeProvider, native_server: NativeServer, serve_app: Any,
               make_registry: Any, start_server: StartServer,
               client: MakeClient) -> openai.AsyncOpenAI:
    url = await serve_app(native_server.app)
    registry: Registry = make_registry([provider], base_urls={"native": url},
                                       retry=RetryPolicy(attempts=1))
    return client(await start_server(registry))


async def _chunks(api: openai.AsyncOpenAI, **kwargs: Any) -> list[ChatCompletionChunk]:
    stream = await api.chat.completions.create(model="scorer", messages=USER, stream=True,
                                               **kwargs)
    return [chunk async for chunk in stream]


def _tokens(chunk: ChatCompletionChunk) -> list[str]:
    logprobs = chunk.choices[0].logprobs if chunk.choices else None
    return [entry.token for entry in (logprobs.content or ())] if logprobs else []


async def test_each_content_chunk_carries_its_own_logprobs(
        native_server: NativeServer, serve_app: Any, make_registry: Any,
        start_server: StartServer, client: MakeClient) -> None:
    api = await _api(NativeProvider(extra_models=[SCORER]), native_server, serve_app,
                     make_registry, start_server, client)
    chunks = await _chunks(api, logprobs=True, top_logprobs=1)
    texts = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert texts == words_of(REPLY)  # one chunk per piece, as the service streamed them
    for chunk in chunks:
        content = chunk.choices[0].delta.content if chunk.choices else None
        # A chunk with text has exactly its piece's logprobs; none has logprobs alone.
        assert "".join(_tokens(chunk)) == (content or "")
        logprobs = chunk.choices[0].logprobs if chunk.choices else None
        if content:
            assert logprobs is not None and logprobs.content is not None
            assert logprobs.content[0].top_logprobs[0].token == content
    assert "".join(token for chunk in chunks for token in _tokens(chunk)) == REPLY
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert native_server.seen[-1]["logprobs"] is True
    # The non-streamed reply keeps its shape: every entry on the one choice.
    reply = await api.chat.completions.create(model="scorer", messages=USER, logprobs=True)
    whole = reply.choices[0].logprobs
    assert whole is not None and whole.content is not None
    assert "".join(entry.token for entry in whole.content) == reply.choices[0].message.content
    assert len(whole.content) == len(words_of(REPLY))


async def test_text_whose_logprobs_never_come_goes_out_alone(
        native_server: NativeServer, serve_app: Any, make_registry: Any,
        start_server: StartServer, client: MakeClient) -> None:
    api = await _api(SomeLogprobs(extra_models=[SCORER]), native_server, serve_app,
                     make_registry, start_server, client)
    chunks = await _chunks(api, logprobs=True)
    pieces = [(c.choices[0].delta.content, _tokens(c)) for c in chunks
              if c.choices and (c.choices[0].delta.content or _tokens(c))]
    assert pieces == [(piece, [] if piece.startswith(" w") else [piece])
                      for piece in words_of(REPLY)]
    assert all(c.choices[0].logprobs is None for c in chunks
               if c.choices and (c.choices[0].delta.content or "").startswith(" w"))


async def test_without_logprobs_the_chunks_are_as_before(
        native_server: NativeServer, serve_app: Any, make_registry: Any,
        start_server: StartServer, client: MakeClient) -> None:
    api = await _api(NativeProvider(extra_models=[SCORER]), native_server, serve_app,
                     make_registry, start_server, client)
    chunks = await _chunks(api)
    pieces = words_of(REPLY)
    # The opening (role and the first piece), one chunk per later piece, then the finish.
    assert len(chunks) == len(pieces) + 1
    assert [c.choices[0].delta.content for c in chunks[:-1]] == pieces
    assert all(c.choices[0].logprobs is None for c in chunks)
    assert "logprobs" not in native_server.seen[-1]


async def test_without_logprobs_each_piece_goes_out_before_the_next_is_made(
        mock_api: openai.AsyncOpenAI, mock_server: MockServer) -> None:
    gate = mock_server.gate = asyncio.Event()
    gate.set()  # the first piece: the server waits for it before its status line
    stream = await mock_api.chat.completions.create(
        model="echo", messages=[{"role": "user", "content": "a b c"}], stream=True)
    seen = []
    async with stream:
        chunks = aiter(stream)
        for _ in range(3):
            # The service makes no next piece until the client has seen this one.
            chunk = await asyncio.wait_for(anext(chunks), 5)
            seen.append(chunk.choices[0].delta.content)
            gate.set()
    assert seen == ["You", " said:", " a"]
