"""Tests of the example third-party plugin (examples/echoapi), written from CONTRIBUTING.md."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from aiohttp import web
from echoapi_helpers import TOKEN, echo_registry

import jackfield_echoapi
from jackfield import Completion, CompletionStream, PartialResponseError, Registry
from jackfield.provider import (
    AuthenticationError,
    CompletionRequest,
    InvalidRequestError,
    Message,
    ModelSpec,
    ProviderConfig,
    ResponseFormatError,
)
from jackfield.testing import STATS_KEY, RegistryFactory, ServeApp
from jackfield_echoapi.emulator import create_app

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def build(model: ModelSpec, *messages: Message, stream: bool = False,
          **values: str) -> Any:
    """Call the build hook directly, as the registry would."""
    request = CompletionRequest(provider="echoapi", model=model, messages=messages,
                                options={"shout": False} if model.kind == "chat" else {},
                                stream=stream)
    config = ProviderConfig("echoapi", "http://127.0.0.1:9", values=values,
                            secret_names=frozenset({"token"}))
    return jackfield_echoapi.jackfield_build_request(request=request, config=config)


# --- listing and request building -------------------------------------------------------------


async def test_models_aliases_and_default(make_registry: RegistryFactory) -> None:
    registry = make_registry([jackfield_echoapi])
    models = {m.id: m for m in registry.models(provider="echoapi")}
    assert set(models) == {"echo-1", "sketch-1"}
    assert models["echo-1"].kind == "chat"
    assert models["echo-1"].default
    assert models["echo-1"].aliases == ("echo",)
    assert models["sketch-1"].kind == "image"
    assert models["echo-1"].capabilities.sampling == {"max_tokens"}
    assert not models["echo-1"].capabilities.has("tools")


def test_build_chat_request() -> None:
    built = build(ModelSpec("echo-1"), Message("system", "be loud"), Message("user", "hi"),
                  Message("assistant", "hi"), Message("user", "again"), stream=True, token=TOKEN)
    assert built.method == "POST"
    assert built.url == "http://127.0.0.1:9/v1/echo"
    assert built.stream is True
    assert built.headers["authorization"] == f"Bearer {TOKEN}"
    assert built.headers["accept"] == "application/x-ndjson"
    assert built.json == {
        "model": "echo-1",
        "turns": [{"who": "system", "say": "be loud"}, {"who": "user", "say": "hi"},
                  {"who": "echo", "say": "hi"}, {"who": "user", "say": "again"}],
        "stream": True,
        "shout": False,
    }


def test_build_image_request() -> None:
    built = build(ModelSpec("sketch-1", kind="image"), Message("user", "a red fox"), token=TOKEN)
    assert (built.method, built.url, built.stream) == ("POST", "http://127.0.0.1:9/v1/sketch",
                                                       False)
    assert built.json == {"model": "sketch-1", "prompt": "a red fox"}


def test_build_without_token_says_how_to_set_it() -> None:
    with pytest.raises(AuthenticationError, match="JACKFIELD_ECHOAPI_TOKEN"):
        build(ModelSpec("echo-1"), Message("user", "hi"))


# --- chat and images against the emulator -----------------------------------------------------


async def test_streamed_chat(serve_app: ServeApp, make_registry: RegistryFactory) -> None:
    registry, app = await echo_registry(serve_app, make_registry)
    stream = await registry.complete("echo-1", "hello there brave world", stream=True)
    assert isinstance(stream, CompletionStream)
    async with stream:
        pieces = [chunk.text async for chunk in stream]
    assert pieces == ["hello", " there", " brave", " world"]
    completion = stream.completion
    assert completion.text == "hello there brave world"
    assert completion.finish_reason == "stop"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (4, 4)
    assert (completion.provider, completion.model) == ("echoapi", "echo-1")
    stats = app[STATS_KEY]
    assert stats.last_json["stream"] is True
    headers = {name.lower(): value for name, value in stats.last_headers.items()}
    assert headers["accept"] == "application/x-ndjson"
    assert stats.in_flight == 0


async def test_non_streamed_chat_with_alias_and_option(serve_app: ServeApp,
                                                       make_registry: RegistryFactory) -> None:
    registry, app = await echo_registry(serve_app, make_registry)
    messages = [{"role": "system", "content": "ignored"},
                {"role": "user", "content": "quiet please"}]
    completion = await registry.complete("echo", messages, shout=True)
    assert isinstance(completion, Completion)
    assert completion.text == "QUIET PLEASE"
    assert completion.model == "echo-1"
    assert completion.usage is not None
    assert completion.usage.total_tokens == 5
    assert app[STATS_KEY].last_json == {
        "model": "echo-1", "stream": False, "shout": True,
        "turns": [{"who": "system", "say": "ignored"}, {"who": "user", "say": "quiet please"}],
    }


@pytest.mark.parametrize("name", ["echoapi", "echoapi/echo-1", "echoapi/echo"])
async def test_provider_pin_and_bare_provider_name(
        serve_app: ServeApp, make_registry: RegistryFactory, name: str) -> None:
    registry, _ = await echo_registry(serve_app, make_registry)
    completion = await registry.complete(name, "ping")
    assert isinstance(completion, Completion)
    assert (completion.text, completion.model) == ("ping", "echo-1")


async def test_image_model(serve_app: ServeApp, make_registry: RegistryFactory) -> None:
    registry, app = await echo_registry(serve_app, make_registry)
    completion = await registry.complete("sketch-1", "a red fox")
    assert isinstance(completion, Completion)
    (image,) = completion.images
    assert image.mime_type == "image/png"
    assert image.data is not None and image.data.startswith(PNG_SIGNATURE)
    assert image.url is not None and "/v1/files/" in image.url
    assert app[STATS_KEY].requests == 2  # the sketch call, then the download


async def test_settings_from_the_environment(serve_app: ServeApp,
                                             make_registry: RegistryFactory) -> None:
    url = await serve_app(create_app(token=TOKEN))
    registry = make_registry([jackfield_echoapi], environ={
        "JACKFIELD_ECHOAPI_BASE_URL": url, "JACKFIELD_ECHOAPI_TOKEN": TOKEN})
    completion = await registry.complete("echo", "from env")
    assert isinstance(completion, Completion)
    assert completion.text == "from env"


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("model", "options"), [
    ("echo-1", {"loud": True}),          # unknown option
    ("echo-1", {"shout": "yes"}),        # wrong type
    ("sketch-1", {"shout": True}),       # chat-only option on an image model
])
async def test_bad_options_rejected_before_io(serve_app: ServeApp, make_registry: RegistryFactory,
                                              model: str, options: dict[str, Any]) -> None:
    registry, app = await echo_registry(serve_app, make_registry)
    with pytest.raises(InvalidRequestError):
        await registry.complete(model, "hi", **options)
    assert app[STATS_KEY].requests == 0


async def test_missing_token_fails_before_io(serve_app: ServeApp,
                                             make_registry: RegistryFactory) -> None:
    app = create_app(token=TOKEN)
    url = await serve_app(app)
    registry = make_registry([jackfield_echoapi], base_urls={"echoapi": url})
    with pytest.raises(AuthenticationError, match="JACKFIELD_ECHOAPI_TOKEN"):
        await registry.complete("echo-1", "hi")
    assert app[STATS_KEY].requests == 0


async def test_wrong_token_is_an_authentication_error(serve_app: ServeApp,
                                                      make_registry: RegistryFactory) -> None:
    url = await serve_app(create_app(token=TOKEN))
    registry = make_registry([jackfield_echoapi], base_urls={"echoapi": url},
                             config={"echoapi": {"token": "wrong"}})
    with pytest.raises(AuthenticationError) as caught:
        await registry.complete("echo-1", "hi")
    assert "wrong" not in str(caught.value)
    assert caught.value.status == 401


def bad_service(stream_body: bytes, json_body: bytes) -> web.Application:
    """An app that answers 200 with bodies that break EchoAPI's protocol."""
    app = web.Application()

    async def chat(request: web.Request) -> web.Response:
        body = await request.json()
        if body["stream"]:
            return web.Response(body=stream_body, content_type="application/x-ndjson")
        return web.Response(body=json_body, content_type="application/json")

    async def sketch(request: web.Request) -> web.Response:
        return web.Response(body=json_body, content_type="application/json")

    app.router.add_post("/v1/echo", chat)
    app.router.add_post("/v1/sketch", sketch)
    return app


@pytest.mark.parametrize("body", [
    b"not json\n",
    b"",                                                    # no done line
    b'{"delta": 5}\n{"done": true}\n',
    b'{"error": "boom"}\n',
    b'["delta"]\n',
    b'{"done": true, "usage": {"in": "x"}}\n',
])
async def test_malformed_stream(serve_app: ServeApp, make_registry: RegistryFactory,
                                body: bytes) -> None:
    registry, _ = await echo_registry(serve_app, make_registry, bad_service(body, b"{}"))
    stream = await registry.complete("echo-1", "hi", stream=True)
    assert isinstance(stream, CompletionStream)
    with pytest.raises(ResponseFormatError) as caught:
        async with stream:
            async for _ in stream:
                pass
    assert caught.value.provider == "echoapi"


@pytest.mark.parametrize("tail", [b"not json\n", b"", b'{"done": true, "usage": {"in": "x"}}\n'])
async def test_malformed_stream_after_text(serve_app: ServeApp, make_registry: RegistryFactory,
                                           tail: bytes) -> None:
    body = b'{"delta": "hi"}\n' + tail
    registry, _ = await echo_registry(serve_app, make_registry, bad_service(body, b"{}"))
    stream = await registry.complete("echo-1", "hi", stream=True)
    assert isinstance(stream, CompletionStream)
    pieces: list[str] = []
    with pytest.raises(PartialResponseError) as caught:
        async with stream:
            async for chunk in stream:
                pieces.append(chunk.text)
    assert pieces == ["hi"]
    assert isinstance(caught.value.cause, ResponseFormatError)


@pytest.mark.parametrize(("model", "body"), [
    ("echo-1", b"<html>oops</html>"),
    ("echo-1", b'{"answer": "hi"}'),
    ("echo-1", b'{"text": "hi", "finish": 1}'),
    ("sketch-1", b'{"images": []}'),
    ("sketch-1", b'{"images": [{"href": "/x.png"}]}'),
])
async def test_malformed_body(serve_app: ServeApp, make_registry: RegistryFactory, model: str,
                              body: bytes) -> None:
    registry, _ = await echo_registry(serve_app, make_registry, bad_service(b"", body))
    with pytest.raises(ResponseFormatError):
        await registry.complete(model, "hi")


async def test_image_link_that_is_not_an_image(serve_app: ServeApp,
                                               make_registry: RegistryFactory) -> None:
    app = web.Application()

    async def sketch(request: web.Request) -> web.Response:
        link = str(request.url.origin().with_path("/page"))
        return web.json_response({"images": [{"url": link}]})

    async def page(request: web.Request) -> web.Response:
        return web.Response(text="<html></html>", content_type="text/html")

    app.router.add_post("/v1/sketch", sketch)
    app.router.add_get("/page", page)
    registry, _ = await echo_registry(serve_app, make_registry, app)
    with pytest.raises(ResponseFormatError, match="text/html"):
        await registry.complete("sketch-1", "a fox")


# --- the emulator itself ----------------------------------------------------------------------


@pytest.mark.parametrize(("headers", "body", "status"), [
    ({}, {"model": "echo-1", "turns": [{"who": "user", "say": "x"}], "stream": False,
          "shout": False}, 401),
    ({"authorization": f"Bearer {TOKEN}"}, {"model": "echo-1", "turns": [], "stream": False,
                                            "shout": False}, 400),
    ({"authorization": f"Bearer {TOKEN}"}, {"model": "echo-1", "turns": [{"who": "user",
                                            "say": "x"}], "stream": False}, 400),
    ({"authorization": f"Bearer {TOKEN}"}, {"model": "echo-9", "turns": [{"who": "user",
                                            "say": "x"}], "stream": False, "shout": False}, 404),
    ({"authorization": f"Bearer {TOKEN}"}, {"model": "echo-1", "turns": [{"who": "echo",
                                            "say": "x"}], "stream": False, "shout": False}, 400),
    ({"authorization": f"Bearer {TOKEN}"}, {"model": "echo-1", "turns": [{"who": "user",
                                            "say": "x"}], "stream": False, "shout": False,
                                            "max_words": 0}, 400),
    ({"authorization": f"Bearer {TOKEN}"}, {"model": "echo-1", "turns": [{"who": "user",
                                            "say": "x"}], "stream": False, "shout": False,
                                            "temperature": 1}, 400),
])
async def test_emulator_is_strict(serve_app: ServeApp, headers: dict[str, str],
                                  body: dict[str, Any], status: int) -> None:
    import aiohttp

    url = await serve_app(create_app(token=TOKEN))
    async with aiohttp.ClientSession() as session, session.post(
            f"{url}/v1/echo", json=body,
            headers={"accept": "application/json", **headers}) as response:
        assert response.status == status
        assert "error" in await response.json()


# --- discovery through the installed entry point ----------------------------------------------


def echo_record(registry: Registry) -> Any:
    """Return the plugin record of the echoapi entry point."""
    (record,) = [r for r in registry.plugins() if r.name == "echoapi"]
    return record


async def test_discovered_through_its_entry_point(make_registry: RegistryFactory) -> None:
    registry = make_registry(plugins=None)
    record = echo_record(registry)
    assert record.distribution == "jackfield-echoapi"
    assert record.version == "0.4.0"
    assert record.provider == "echoapi"
    assert record.model_count == 2
    assert record.error is None
    assert registry.emulators()["echoapi"] is create_app


async def test_registry_discover_lists_it() -> None:
    async with Registry.discover(environ={}) as registry:
        assert echo_record(registry).distribution == "jackfield-echoapi"
        assert "echo-1" in {m.id for m in registry.models(provider="echoapi")}


async def test_load_plugins_selects_only_it() -> None:
    async with Registry.discover(environ={"JACKFIELD_LOAD_PLUGINS": "jackfield-echoapi"}) as reg:
        assert {p.name for p in reg.providers()} == {"echoapi"}
        assert {m.provider for m in reg.models()} == {"echoapi"}
        assert echo_record(reg).error is None


def test_import_stays_light() -> None:
    code = "import sys, jackfield_echoapi; sys.exit('aiohttp' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
