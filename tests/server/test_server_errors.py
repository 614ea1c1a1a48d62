"""Every failure reaches the client as an OpenAI error with the right status, never a traceback."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import openai
import pytest
from server_helpers import MakeClient, StartServer, raw

from jackfield import Registry, RetryPolicy
from jackfield.provider import hookimpl
from mockprovider import MockProvider, MockServer

USER = [{"role": "user", "content": "hi"}]


def error_of(caught: pytest.ExceptionInfo[openai.APIStatusError]) -> dict[str, Any]:
    """Return the OpenAI error object of a caught status error."""
    body = caught.value.body
    assert isinstance(body, dict)
    assert set(body) == {"message", "type", "param", "code"}
    assert "Traceback" not in body["message"]
    return body


async def test_400_unsupported_option_is_refused_before_any_io(
        mock_api: openai.AsyncOpenAI, mock_server: MockServer) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await mock_api.chat.completions.create(model="echo", messages=USER,
                                               extra_body={"frobnicate": 1})
    error = error_of(caught)
    assert error["type"] == "invalid_request_error" and error["code"] == "invalid_request"
    assert error["param"] == "frobnicate"
    assert "frobnicate" in error["message"] and "Supported options: creativity" in error[
        "message"]
    assert mock_server.seen == []


@pytest.mark.parametrize(("extra", "needle", "param"), [
    ({"n": 11}, "n must be a whole number from 1 to 10", "n"),
    ({"n": 2, "stream": True}, "n > 1 cannot be streamed", "n"),
    ({"temperature": "hot"}, "temperature must be a number", "temperature"),
    ({"creativity": "hot"}, "option 'creativity' must be", "creativity"),
    ({"proxy": "http://127.0.0.1:1"}, "proxy", "proxy"),
    ({"timeout": 1}, "timeout", "timeout"),
    ({"prompted": True}, "jackfield serve --prompted", "prompted"),
    ({"strict": False}, "jackfield serve --strict", "strict"),
    ({"stream": "yes"}, "'stream'", "stream"),
    ({"stream": True, "stream_options": {"include_usage": 1}}, "include_usage",
     "stream_options.include_usage"),
    ({"max_tokens": 5, "max_completion_tokens": 5}, "send one", "max_completion_tokens"),
    ({"tools": [{"type": "function", "function": {"name": "no spaces"}}]}, "letters",
     "tools[0].function.name"),
    ({"tool_choice": "required"}, "needs tools", "tool_choice"),
    ({"response_format": {"type": "yaml"}}, "json_schema", "response_format"),
    ({"logprobs": True}, "logprobs", "logprobs"),
    ({"messages": [{"role": "user", "content": "x", "images": []}]}, "content",
     "messages[0].images"),
])
async def test_400_for_fields_the_server_cannot_honour(
        mock_api: openai.AsyncOpenAI, mock_server: MockServer, extra: dict[str, Any],
        needle: str, param: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await mock_api.chat.completions.create(model="echo", messages=USER, extra_body=extra)
    error = error_of(caught)
    assert needle in error["message"] and error["param"] == param
    assert mock_server.seen == []


@pytest.mark.parametrize(("extra", "needle", "param"), [
    ({"stream": True}, "not streamed", "stream"),
    ({"messages": USER}, "describe the image in 'prompt'", "messages"),
    ({"n": 11}, "from 1 to 10", "n"),
    ({"response_format": "png"}, "'url' or 'b64_json'", "response_format"),
    ({"timeout": 3}, "timeout", "timeout"),
    ({"temperature": 0.5}, "image model", "temperature"),
    ({"background": "transparent"}, "does not accept", "background"),
])
async def test_400_for_image_fields_the_server_cannot_honour(
        mock_api: openai.AsyncOpenAI, mock_server: MockServer, extra: dict[str, Any],
        needle: str, param: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await mock_api.images.generate(model="painter", prompt="x", extra_body=extra)
    error = error_of(caught)
    assert needle in error["message"] and error["param"] == param
    assert mock_server.seen == []


async def test_400_for_tools_to_a_model_without_them_names_the_field(
        mock_api: openai.AsyncOpenAI) -> None:
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    with pytest.raises(openai.BadRequestError) as caught:
        await mock_api.chat.completions.create(model="echo", messages=USER, tools=[tool])
    error = error_of(caught)
    assert error["param"] == "tools" and "mock/echo has no tool calling" in error["message"]


async def test_400_for_a_model_of_the_other_kind(mock_api: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="images/generations") as caught:
        await mock_api.chat.completions.create(model="painter", messages=USER)
    assert error_of(caught)["param"] == "model"
    with pytest.raises(openai.BadRequestError, match="chat/completions"):
        await mock_api.images.generate(model="echo", prompt="x")


@pytest.mark.parametrize(("body", "needle"), [
    (b"{not json", "not valid JSON"),
    (b"\xff\xfe\x00", "not valid JSON"),
    (b'{"model": "echo", "messages": [], "temperature": NaN}', "not valid JSON"),
    (b"[1, 2]", "JSON object"),
    (b'{"model": "echo", "messages": "hi"}', "'messages'"),
    (b'{"model": 3, "messages": []}', "'model'"),
    (b'{"model": "echo", "messages": [{"role": "robot", "content": "x"}]}', "role"),
])
async def test_400_for_malformed_bodies(strict_registry: Registry, start_server: StartServer,
                                        body: bytes, needle: str) -> None:
    url = await start_server(strict_registry)
    status, headers, reply = await raw("POST", f"{url}/v1/chat/completions", data=body,
                                       headers={"content-type": "application/json"})
    assert status == 400 and headers["Content-Type"].startswith("application/json")
    assert reply["error"]["type"] == "invalid_request_error"
    assert needle in reply["error"]["message"]


async def test_401_without_or_with_a_wrong_api_key(
        strict_registry: Registry, start_server: StartServer, client: MakeClient) -> None:
    url = await start_server(strict_registry, api_key="s3cret")
    with pytest.raises(openai.AuthenticationError) as caught:
        await client(url, api_key="wrong").models.list()
    assert error_of(caught)["code"] == "invalid_api_key"
    status, headers, reply = await raw("GET", f"{url}/v1/models")
    assert status == 401 and reply["error"]["code"] == "missing_api_key"
    assert headers["WWW-Authenticate"].startswith("Bearer")
    status, _, _ = await raw("GET", f"{url}/v1/nowhere")
    assert status == 401  # routes are not revealed to strangers
    assert (await raw("GET", f"{url}/health"))[0] == 200
    page = await client(url, api_key="s3cret").models.list()
    assert page.data


async def test_404_for_an_unknown_model_with_suggestions(mock_api: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await mock_api.chat.completions.create(model="ecko", messages=USER)
    error = error_of(caught)
    assert error["code"] == "model_not_found" and "'echo'" in error["message"]
    assert error["param"] == "model"
    with pytest.raises(openai.NotFoundError, match="marked unavailable"):
        await mock_api.chat.completions.create(model="broken", messages=USER)


async def test_404_and_405_for_unknown_routes(strict_registry: Registry,
                                              start_server: StartServer) -> None:
    url = await start_server(strict_registry)
    status, _, reply = await raw("GET", f"{url}/v1/engines")
    assert status == 404 and reply["error"]["code"] == "not_found"
    status, headers, reply = await raw("GET", f"{url}/v1/chat/completions")
    assert status == 405 and headers["Allow"] == "POST"
    assert reply["error"]["code"] == "method_not_allowed"


async def test_413_for_a_body_over_the_limit(
        strict_registry: Registry, start_server: StartServer, client: MakeClient,
        mock_server: MockServer) -> None:
    url = await start_server(strict_registry, max_body_bytes=4096)
    api = client(url)
    with pytest.raises(openai.APIStatusError) as caught:
        await api.chat.completions.create(
            model="echo", messages=[{"role": "user", "content": "x" * 5000}])
    assert caught.value.status_code == 413
    error = error_of(caught)
    assert error["code"] == "request_too_large" and "4096 bytes" in error["message"]
    assert mock_server.seen == []
    reply = await api.chat.completions.create(model="echo", messages=USER)  # still serving
    assert reply.choices[0].message.content == "You said: hi"


async def test_429_carries_retry_after(mock_api: openai.AsyncOpenAI,
                                       mock_server: MockServer) -> None:
    mock_server.fail.append((429, {"Retry-After": "7"}, '{"message": "slow down"}'))
    with pytest.raises(openai.RateLimitError) as caught:
        await mock_api.chat.completions.create(model="echo", messages=USER)
    assert caught.value.response.headers["retry-after"] == "7"
    error = error_of(caught)
    assert error["type"] == "rate_limit_error" and "slow down" in error["message"]


@pytest.mark.parametrize(("status", "code"), [
    (500, "provider_unavailable"),
    (400, "provider_error"),
    (403, "provider_authentication_failed"),
])
async def test_502_for_provider_failures(mock_api: openai.AsyncOpenAI, mock_server: MockServer,
                                         status: int, code: str) -> None:
    mock_server.fail.append((status, {}, '{"message": "upstream says no"}'))
    with pytest.raises(openai.InternalServerError) as caught:
        await mock_api.chat.completions.create(model="echo", messages=USER)
    assert caught.value.status_code == 502
    error = error_of(caught)
    assert error["code"] == code and "upstream says no" in error["message"]


async def test_502_when_every_provider_fails_and_429_when_all_are_rate_limited(
        mock_server: MockServer, serve_app: Any, make_registry: Any,
        start_server: StartServer, client: MakeClient) -> None:
    url = await serve_app(mock_server.app)
    registry = make_registry([MockProvider(), MockProvider("other")],
                             base_urls={"mock": url, "other": url},
                             retry=RetryPolicy(attempts=1))
    api = client(await start_server(registry))
    mock_server.fail += [(500, {}, "{}"), (400, {}, "{}")]
    with pytest.raises(openai.InternalServerError) as failed:
        await api.chat.completions.create(model="echo", messages=USER)
    assert failed.value.status_code == 502
    assert error_of(failed)["code"] == "all_providers_failed"
    mock_server.fail += [(429, {"Retry-After": "9"}, "{}"), (429, {"Retry-After": "4"}, "{}")]
    with pytest.raises(openai.RateLimitError) as limited:
        await api.chat.completions.create(model="echo", messages=USER)
    assert limited.value.response.headers["retry-after"] == "4"


async def test_502_for_a_broken_plugin(serve_app: Any, make_registry: Any,
                                       start_server: StartServer, client: MakeClient,
                                       mock_server: MockServer) -> None:
    class Broken(MockProvider):
        @hookimpl
        def jackfield_build_request(self, request: Any, config: Any) -> Any:
            raise KeyError("oops")

    url = await serve_app(mock_server.app)
    api = client(await start_server(make_registry([Broken()], base_urls={"mock": url})))
    with pytest.raises(openai.InternalServerError) as caught:
        await api.chat.completions.create(model="echo", messages=USER)
    assert caught.value.status_code == 502 and error_of(caught)["code"] == "plugin_error"


async def test_504_when_the_provider_times_out_before_the_first_chunk(
        mock_api: openai.AsyncOpenAI, mock_server: MockServer) -> None:
    mock_server.stall = 5.0  # well past the registry's 0.5 s read timeout
    with pytest.raises(openai.InternalServerError) as caught:
        await mock_api.chat.completions.create(model="echo", messages=USER, stream=True)
    assert caught.value.status_code == 504
    assert error_of(caught)["code"] == "provider_timeout"


async def test_a_failure_after_the_stream_started_is_a_final_error_event(
        strict_registry: Registry, start_server: StartServer, client: MakeClient,
        mock_server: MockServer) -> None:
    mock_server.gate = asyncio.Event()
    mock_server.gate.set()  # the first piece only; then the provider stalls past its timeout
    url = await start_server(strict_registry)
    received = []
    stream = await client(url).chat.completions.create(model="echo", messages=USER,
                                                       stream=True)
    with pytest.raises(openai.APIError) as caught:
        async for chunk in stream:
            received.append(chunk.choices[0].delta.content)
    assert received == ["You"]
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == "provider_partial_response"


async def test_the_raw_stream_ends_with_the_error_event_and_no_done(
        strict_registry: Registry, start_server: StartServer, mock_server: MockServer) -> None:
    mock_server.gate = asyncio.Event()
    mock_server.gate.set()
    url = await start_server(strict_registry)
    body = json.dumps({"model": "echo", "messages": USER, "stream": True}).encode()
    import aiohttp

    async with aiohttp.ClientSession() as session, session.post(
            f"{url}/v1/chat/completions", data=body,
            headers={"content-type": "application/json"}) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        text = (await response.read()).decode()
    events = [line[len("data: "):] for line in text.split("\n\n") if line]
    assert json.loads(events[-1])["error"]["type"] == "provider_error"
    assert "[DONE]" not in text


async def test_the_server_survives_abuse_and_keeps_serving(
        strict_registry: Registry, start_server: StartServer, client: MakeClient) -> None:
    url = await start_server(strict_registry, max_body_bytes=4096)
    host, port = url.removeprefix("http://").split(":")
    abuse = [
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{\"mod",
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 9999999\r\n\r\n",
        b"GARBAGE\r\n\r\n",
        b"",
    ]
    for payload in abuse:  # each connection is cut by the client after the bytes are sent
        _, writer = await asyncio.open_connection(host, int(port))
        writer.write(payload)
        await writer.drain()
        writer.close()
        await writer.wait_closed()
    for body in (b"{", b'{"model": [], "messages": {}}', b"x" * 10_000):
        status, _, _ = await raw("POST", f"{url}/v1/chat/completions", data=body,
                                 headers={"content-type": "application/json"})
        assert status in (400, 413)
    reply = await client(url).chat.completions.create(model="echo", messages=USER)
    assert reply.choices[0].message.content == "You said: hi"
