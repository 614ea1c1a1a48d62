"""Errors: the server's replies become typed errors that say what to do next."""

from __future__ import annotations

import aiohttp
import jackfield_ollama_example
import pytest
from jackfield_ollama_example import emulator
from jackfield_ollama_example.listing import model_spec
from ollama_helpers import SPEC, start

from jackfield import (
    InvalidRequestError,
    PartialResponseError,
    ProviderUnavailableError,
    ResponseFormatError,
    RetryPolicy,
    UnknownModelError,
    create_app,
)
from jackfield.provider import ErrorReply, ProviderError
from jackfield.testing import (
    FAULTS_KEY,
    ProviderHarness,
    RegistryFactory,
    ServeApp,
    make_config,
    make_request,
)

NO_RETRY = RetryPolicy(attempts=1)


def reply(status: int, body: bytes, model: str | None = "llama3:8b") -> ErrorReply:
    return ErrorReply("ollama", status, {}, body, ProviderError("ollama", "default"), model)


def test_the_error_hook_reads_ollamas_replies() -> None:
    hook = jackfield_ollama_example.jackfield_error_reply
    unknown = hook(request=None, reply=reply(
        404, b'{"error": "model \'llama3:8b\' not found, try pulling it first"}'))
    assert isinstance(unknown, UnknownModelError) and unknown.provider == "ollama"
    assert "try pulling it first" in str(unknown)
    refused = hook(request=None, reply=reply(400, b'{"error": "\\"x\\" does not support tools"}'))
    assert isinstance(refused, InvalidRequestError) and refused.param == "tools"
    assert hook(request=None, reply=reply(500, b'{"error": "boom"}')) is None  # the core's
    assert hook(request=None, reply=reply(404, b"not found", model=None)) is None  # discovery


async def test_an_unpulled_model_is_unknown_not_a_provider_error(
        serve_app: ServeApp, make_registry: RegistryFactory) -> None:
    ollama = await start(serve_app, make_registry)
    with pytest.raises(UnknownModelError) as caught:
        await ollama.registry.complete("ollama/mistral:7b", "hi")
    assert caught.value.provider == "ollama"
    assert "try pulling it first" in str(caught.value)
    assert ollama.stats.by_path["/api/chat"] == 1  # no retry: the server's verdict
    assert ollama.registry.health()["ollama"].failures == 0


async def test_the_server_answers_404_for_an_unpulled_model(
        serve_app: ServeApp, make_registry: RegistryFactory) -> None:
    ollama = await start(serve_app, make_registry)
    url = await serve_app(create_app(ollama.registry))
    async with aiohttp.ClientSession() as session, session.post(
            f"{url}/v1/chat/completions", json={
                "model": "ollama/mistral:7b",
                "messages": [{"role": "user", "content": "hi"}]}) as response:
        body = await response.json()
    assert response.status == 404, body
    assert "try pulling it first" in body["error"]["message"]


async def test_a_model_refusing_a_feature_is_an_invalid_request(
        serve_app: ServeApp, make_registry: RegistryFactory) -> None:
    ollama = await start(serve_app, make_registry)
    await ollama.registry.refresh_models()
    ollama.shelf.pull("tinyllama:1b")  # no tools; pinned, it goes with unknown capabilities
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    with pytest.raises(InvalidRequestError, match="does not support tools") as caught:
        await ollama.registry.complete("ollama/tinyllama:1b", "hi", tools=[tool])
    assert caught.value.param == "tools"


async def test_an_error_line_before_any_text_is_retried_then_typed(
        serve_app: ServeApp, make_registry: RegistryFactory) -> None:
    ollama = await start(serve_app, make_registry,
                         retry=RetryPolicy(attempts=2, backoff=0, jitter=False))
    await ollama.registry.refresh_models()
    ollama.shelf.models["llama3.2:3b"].fails_after = 0
    stream = await ollama.registry.complete("ollama/llama3.2:3b", "hi", stream=True)
    with pytest.raises(ProviderUnavailableError, match="failed while answering") as caught:
        async for _chunk in stream:
            pass
    assert "unexpected EOF" in str(caught.value)
    assert ollama.stats.by_path["/api/chat"] == 2  # retried, as a 5xx reply would be


async def test_an_error_line_after_text_is_a_partial_response(
        serve_app: ServeApp, make_registry: RegistryFactory) -> None:
    ollama = await start(serve_app, make_registry, retry=NO_RETRY)
    await ollama.registry.refresh_models()
    ollama.shelf.models["llama3.2:3b"].fails_after = 2
    stream = await ollama.registry.complete("ollama/llama3.2:3b", "a b c d", stream=True)
    pieces = []
    with pytest.raises(PartialResponseError) as caught:
        async for chunk in stream:
            pieces.append(chunk.text)
    assert pieces == ["You", " said:"]
    assert isinstance(caught.value.cause, ProviderUnavailableError)


async def test_the_parser_raises_only_when_iterated(provider_harness: ProviderHarness,
                                                    serve_app: ServeApp) -> None:
    ollama_app = emulator.create_app()
    url = await serve_app(ollama_app)
    spec = SPEC.with_models([model_spec("llama3.2:3b", {"capabilities": ["completion"]})])
    request = make_request(spec, "llama3.2:3b", stream=True)
    ollama_app[FAULTS_KEY].set("invalid_lines")
    config = make_config(spec, base_url=url)
    built = jackfield_ollama_example.jackfield_build_request(request=request, config=config)
    response = await provider_harness.send("ollama", built)
    try:
        events = jackfield_ollama_example.jackfield_parse_response(
            request=request, response=response, transport=provider_harness.for_provider("ollama"))
        # Nothing has run yet: the bad line is met only when the generator is iterated.
        with pytest.raises(ResponseFormatError, match="not JSON"):
            async for _event in events:
                pass
    finally:
        response.release()
