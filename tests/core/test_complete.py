"""Registry.complete end to end over loopback with the mock provider."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from jackfield import (
    AuthenticationError,
    Chunk,
    InvalidRequestError,
    JackfieldError,
    ProviderError,
    Registry,
    UnknownModelError,
)
from jackfield._engine.completion import CompletionBuilder
from jackfield.provider import TextDelta, hookimpl
from jackfield.testing import STATS_KEY
from mockprovider import MockProvider, MockServer

MESSAGES = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "one two"}]


async def test_non_streamed_completion(mock_registry: Registry, mock_server: MockServer) -> None:
    completion = await mock_registry.complete("parrot", MESSAGES, temperature=0.2,
                                              creativity=0.4)
    assert completion.text == "You said: one two"
    assert (completion.model, completion.provider) == ("echo", "mock")
    assert completion.finish_reason == "stop"
    # temperature is complete()'s own parameter (echo honours it); creativity is mock's option.
    assert mock_server.seen[-1]["params"] == {"temperature": 0.2}
    assert mock_server.seen[-1]["options"] == {"creativity": 0.4}
    assert mock_server.seen[-1]["messages"][0] == {"role": "system", "content": "be brief"}


async def test_defaults_are_sent_when_options_are_omitted(
        mock_registry: Registry, mock_server: MockServer) -> None:
    await mock_registry.complete("echo", "x")
    assert mock_server.seen[-1]["options"] == {"creativity": 0.7}
    assert mock_server.seen[-1]["params"] == {}


async def test_stream_yields_pieces_as_they_arrive(
        mock_registry: Registry, mock_server: MockServer) -> None:
    mock_server.gate = asyncio.Event()
    stream = await mock_registry.complete("echo", "a b c", stream=True)
    received: list[str] = []

    async def reader() -> None:
        async for chunk in stream:
            received.append(chunk.text)

    task = asyncio.create_task(reader())
    for expected in (1, 2, 3, 4, 5):
        mock_server.gate.set()  # let exactly one more piece out of the server
        for _ in range(200):
            if len(received) >= expected:
                break
            await asyncio.sleep(0.005)
        assert len(received) == expected, "a piece was not delivered before the next was sent"
    await task
    assert received == ["You", " said:", " a", " b", " c"]
    assert stream.completion.text == "You said: a b c"


async def test_completion_is_refused_before_the_stream_ends(mock_registry: Registry) -> None:
    async with await mock_registry.complete("echo", "hi", stream=True) as stream:
        first = await stream.__anext__()
        assert first == Chunk(text="You")
        with pytest.raises(JackfieldError, match="not finished"):
            _ = stream.completion


@pytest.mark.parametrize("how", ["aclose", "async_with", "break_then_aclose"])
async def test_leaving_a_stream_early_closes_the_connection(
        mock_registry: Registry, mock_server: MockServer, how: str) -> None:
    mock_server.gate = asyncio.Event()
    mock_server.gate.set()
    stats = mock_server.app[STATS_KEY]
    stream = await mock_registry.complete("echo", "a b c d", stream=True)
    if how == "async_with":
        async with stream:
            await stream.__anext__()
    else:
        async for _ in stream:
            break
        await stream.aclose()
    for _ in range(100):  # the server notices the closed connection and ends its handler
        if stats.in_flight == 0:
            break
        await asyncio.sleep(0.01)
    assert stats.in_flight == 0


async def test_a_stream_never_iterated_sends_nothing(
        mock_registry: Registry, mock_server: MockServer) -> None:
    await mock_registry.complete("echo", "hi", stream=True)
    assert mock_server.seen == []


async def test_cancelling_the_caller_closes_the_connection(
        mock_registry: Registry, mock_server: MockServer) -> None:
    mock_server.gate = asyncio.Event()  # never set: the server holds the stream open
    stats = mock_server.app[STATS_KEY]

    async def consume() -> None:
        async for _ in await mock_registry.complete("echo", "hi", stream=True):
            pass

    task = asyncio.create_task(consume())
    while stats.in_flight == 0:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(100):
        if stats.in_flight == 0:
            break
        await asyncio.sleep(0.01)
    assert stats.in_flight == 0


async def test_image_models_fill_images(mock_registry: Registry) -> None:
    completion = await mock_registry.complete("painter", "a red square")
    [image] = completion.images
    assert image.data is not None and image.data.startswith(b"\x89PNG")
    assert image.mime_type == "image/png" and image.url and image.url.endswith("/img.png")
    assert completion.text == ""
    stream = await mock_registry.complete("painter", "a red square", stream=True)
    chunks = [chunk async for chunk in stream]
    assert chunks[0].image == image


async def test_invalid_input_fails_before_any_io(
        mock_registry: Registry, mock_server: MockServer) -> None:
    with pytest.raises(InvalidRequestError, match="Supported options: creativity"):
        await mock_registry.complete("echo", "hi", top_k=3)
    with pytest.raises(InvalidRequestError, match="role"):
        await mock_registry.complete("echo", [{"role": "bot", "content": "x"}])
    with pytest.raises(UnknownModelError, match="echo"):
        await mock_registry.complete("ecko", "hi")
    with pytest.raises(InvalidRequestError, match="timeout"):
        await mock_registry.complete("echo", "hi", timeout=-1)
    assert mock_server.seen == []


async def test_wrapper_plugin_adds_a_header_for_every_provider(
        mock_server: MockServer, serve_app: Any, make_registry: Any) -> None:
    class AddHeader:
        @hookimpl(wrapper=True)
        def jackfield_build_request(self, request: Any, config: Any) -> Any:
            built = yield
            return type(built)(built.method, built.url,
                               headers={**built.headers, "x-trace": request.provider},
                               json=built.json, stream=built.stream)

    url = await serve_app(mock_server.app)
    registry = make_registry([MockProvider(), MockProvider("other"), AddHeader()],
                             base_urls={"mock": url, "other": url})
    await registry.complete("mock/echo", "hi")
    await registry.complete("other/echo", "hi")
    assert [h.get("x-trace") for h in mock_server.headers] == ["mock", "other"]


async def test_credentials_come_from_config_and_never_show(
        mock_server: MockServer, serve_app: Any, make_registry: Any) -> None:
    url = await serve_app(mock_server.app)
    registry = make_registry([MockProvider()], config={"mock": {"base_url": url,
                                                                "token": "s3cret-value"}})
    await registry.complete("echo", "hi")
    assert mock_server.headers[-1]["authorization"] == "Bearer s3cret-value"
    assert "s3cret-value" not in repr(registry.config("mock"))
    built = registry._get_caller().build(registry._prepare("echo", "hi", False, {}).calls[0])
    assert "s3cret-value" not in repr(built)


async def test_base_url_from_environment(mock_server: MockServer, serve_app: Any) -> None:
    url = await serve_app(mock_server.app)
    async with Registry([MockProvider()], environ={"JACKFIELD_MOCK_BASE_URL": url}) as registry:
        assert (await registry.complete("echo", "hi")).text == "You said: hi"


async def test_explicit_config_beats_environment(mock_server: MockServer,
                                                  serve_app: Any) -> None:
    url = await serve_app(mock_server.app)
    async with Registry([MockProvider()], config={"mock": {"base_url": url}},
                        environ={"JACKFIELD_MOCK_BASE_URL": "http://127.0.0.1:9"}) as registry:
        assert (await registry.complete("echo", "hi")).text == "You said: hi"


def test_config_for_unknown_provider_or_setting_is_rejected() -> None:
    with pytest.raises(InvalidRequestError, match="unknown provider"):
        Registry([MockProvider()], config={"nope": {}}, environ={})
    with pytest.raises(InvalidRequestError, match="it accepts: base_url, token"):
        Registry([MockProvider()], config={"mock": {"cookie": "x"}}, environ={})


async def test_error_body_is_raised_never_returned_as_text(
        mock_registry: Registry, mock_server: MockServer) -> None:
    mock_server.fail.append((403, {}, '{"message": "Forbidden"}'))
    stream = await mock_registry.complete("echo", "hi", stream=True)
    with pytest.raises(AuthenticationError) as caught:
        await stream.__anext__()
    assert "Set JACKFIELD_MOCK_TOKEN" in str(caught.value)
    assert caught.value.status == 403 and caught.value.body_excerpt == "Forbidden"


async def test_pieces_come_from_a_stream_that_breaks_are_not_called_success(
        mock_registry: Registry, mock_server: MockServer) -> None:
    mock_server.fail.append((400, {}, '{"message": "bad model"}'))
    with pytest.raises(ProviderError, match="bad model"):
        await mock_registry.complete("echo", "hi")


def test_complete_sync_for_scripts(mock_server: MockServer) -> None:
    import concurrent.futures
    import threading

    from jackfield.testing import serve_app

    started: concurrent.futures.Future[str] = concurrent.futures.Future()
    stop = threading.Event()

    async def run_server() -> None:
        async with serve_app(mock_server.app) as url:
            started.set_result(url)
            await asyncio.to_thread(stop.wait)

    thread = threading.Thread(target=asyncio.run, args=(run_server(),))
    thread.start()
    try:
        registry = Registry([MockProvider()], config={"mock": {"base_url": started.result(5)}},
                            environ={})
        assert registry.complete_sync("echo", "hi").text == "You said: hi"
        assert registry.complete_sync("echo", "again").text == "You said: again"
    finally:
        stop.set()
        thread.join(5)


async def test_complete_sync_inside_a_loop_is_refused(mock_registry: Registry) -> None:
    with pytest.raises(JackfieldError, match=r"use `await registry\.complete"):
        mock_registry.complete_sync("echo", "hi")


async def test_stream_names_its_provider_and_model_from_the_first_chunk(
        mock_registry: Registry) -> None:
    async with await mock_registry.complete("parrot", "hi", stream=True) as stream:
        assert (stream.provider, stream.model) == ("", "")
        await stream.__anext__()
        assert (stream.provider, stream.model) == ("mock", "echo")


async def test_serve_app_cleans_up_when_the_port_is_taken() -> None:
    from aiohttp import web

    from jackfield.testing import serve_app

    cleaned: list[bool] = []

    async def on_cleanup(app: web.Application) -> None:
        cleaned.append(True)

    async with serve_app(web.Application()) as url:
        port = int(url.rsplit(":", 1)[1])
        app = web.Application()
        app.on_cleanup.append(on_cleanup)
        with pytest.raises(OSError):
            async with serve_app(app, port=port):
                pass
    assert cleaned == [True]


async def test_hooks_are_called_directly_only_while_the_plugin_is_alone(
        mock_server: MockServer, serve_app: Any, make_registry: Any) -> None:
    # The provider's hooks are resolved once and called without pluggy's loop while no
    # wrapper is registered (issue 16); with one, pluggy's caller runs it.
    from jackfield._engine.hook_calls import _Direct

    class Wrap:
        @hookimpl(wrapper=True)
        def jackfield_build_request(self, request: Any, config: Any) -> Any:
            built = yield
            return type(built)(built.method, built.url,
                               headers={**built.headers, "x-wrapped": "1"},
                               json=built.json, stream=built.stream)

    url = await serve_app(mock_server.app)
    alone = make_registry([MockProvider()], base_urls={"mock": url})
    wrapped = make_registry([MockProvider(), Wrap()], base_urls={"mock": url})
    assert (await alone.complete("mock/echo", "hi")).text == "You said: hi"
    assert (await wrapped.complete("mock/echo", "hi")).text == "You said: hi"
    assert isinstance(alone._get_caller()._hook("jackfield_build_request", "mock"), _Direct)
    assert not isinstance(wrapped._get_caller()._hook("jackfield_build_request", "mock"),
                          _Direct)
    assert [h.get("x-wrapped") for h in mock_server.headers] == [None, "1"]


@pytest.mark.parametrize("pieces", [0, 1, 7, 8, 9, 16, 17, 100])
def test_builder_text_is_every_piece_in_order(pieces: int) -> None:
    # The builder joins its pieces into blocks as they come (memory per open stream): the
    # text must be the same at every block boundary, whether a piece came through add() (a
    # stream's chunks) or record() (a buffered call).
    builder = CompletionBuilder()
    texts = [f"p{number} " for number in range(pieces)]
    for number, text in enumerate(texts):
        if number % 3:
            builder.add(TextDelta(text))
        else:
            builder.record(TextDelta(text))
    assert builder.text() == "".join(texts)
    assert builder.build().text == "".join(texts).strip()


async def test_a_long_stream_keeps_its_whole_text(mock_registry: Registry) -> None:
    words = " ".join(f"w{number}" for number in range(60))
    stream = await mock_registry.complete("echo", words, stream=True)
    async with stream:
        received = [chunk.text async for chunk in stream]
    assert len(received) > 60
    assert stream.completion.text == "".join(received).strip() == f"You said: {words}"
