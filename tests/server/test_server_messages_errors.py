"""The Messages routes' errors in Anthropic's shape and statuses (bad input refused before
any provider call, auth, provider failures, no secret quoted), count_tokens, the models list
in Anthropic's shape, and CORS for Anthropic's headers."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from messages_helpers import VERSION, get, post, stream
from server_helpers import StartServer

from echoing import SECRET, CookieMock, echoing_app, leaks
from jackfield import Registry, RetryPolicy
from mockprovider import MockProvider, MockServer
from nativeprovider import NativeServer

USER = [{"role": "user", "content": "hi"}]
API_KEY = "server-key-7a6b5c4d3e2f"


def body(**fields: Any) -> dict[str, Any]:
    return {"model": "omni", "max_tokens": 64, "messages": USER} | fields


def anthropic_error(reply: Any, kind: str) -> str:
    """Return the message of an Anthropic error reply of the given type."""
    assert reply["type"] == "error" and set(reply) == {"type", "error"}
    assert reply["error"]["type"] == kind and set(reply["error"]) == {"type", "message"}
    assert "Traceback" not in reply["error"]["message"]
    message: str = reply["error"]["message"]
    return message


@pytest.fixture
async def url(native_registry: Registry, start_server: StartServer) -> str:
    return await start_server(native_registry)


@pytest.mark.parametrize(("fields", "named"), [
    ({"max_tokens": None}, "max_tokens"),
    ({"max_tokens": 0}, "max_tokens"),
    ({"model": ""}, "model"),
    ({"messages": []}, "messages"),
    ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0].role"),
    ({"messages": [*USER, {"role": "system", "content": [{"type": "image"}]}]},
     "messages[1].content[0]"),
    ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
    ({"messages": [{"role": "user", "content": "x", "name": "n"}]}, "messages[0].name"),
    ({"messages": [{"role": "user", "content": [{"type": "document", "source": {}}]}]},
     "messages[0].content[0].type"),
    ({"messages": [{"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "nope", "content": "x"}]}]},
     "messages[0].content[0].tool_use_id"),
    ({"messages": [{"role": "user", "content": [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                     "data": "not base64!"}}]}]},
     "messages[0].content[0].source"),
    ({"messages": [{"role": "user", "content": [
        {"type": "image", "source": {"type": "file", "file_id": "f1"}}]}]},
     "messages[0].content[0].source.type"),
    ({"messages": [{"role": "assistant", "content": [
        {"type": "tool_use", "id": "t", "name": "f", "input": "[]"}]}]},
     "messages[0].content[0].input"),
    ({"messages": [{"role": "user", "content": [{"type": "text", "text": "x",
                                                 "citations": [{"a": 1}]}]}]},
     "messages[0].content[0].citations"),
    ({"system": [{"type": "image"}]}, "system[0]"),
    ({"tools": [{"type": "web_search_20250305", "name": "web_search"}]}, "tools[0].type"),
    ({"tools": [{"name": "f"}]}, "tools[0].input_schema"),
    ({"tools": [{"name": "f", "input_schema": {}, "input_examples": []}]},
     "tools[0].input_examples"),
    ({"tools": [{"name": "f f", "input_schema": {"type": "object"}}]}, "tools[0]"),
    ({"tool_choice": {"type": "sometimes"}}, "tool_choice.type"),
    ({"tool_choice": {"type": "tool"}}, "tool_choice.name"),
    ({"thinking": {"type": "enabled"}}, "thinking.budget_tokens"),
    ({"thinking": {"type": "always"}}, "thinking.type"),
    ({"temperature": 7}, "temperature"),
    ({"top_k": 0}, "top_k"),
    ({"stop_sequences": "END"}, "stop_sequences"),
    ({"metadata": {"user_id": "u", "org": "o"}}, "metadata.org"),
    ({"stream": "yes"}, "stream"),
    ({"container": "c1"}, "container"),
    ({"mcp_servers": []}, "mcp_servers"),
    ({"inference_geo": "us"}, "inference_geo"),
    ({"output_config": {"format": {"type": "xml"}}}, "output_config.format"),
    ({"frequency_penalty": 1}, "frequency_penalty"),
])
async def test_bad_input_is_a_clear_400_before_any_provider_call(
        url: str, native_server: NativeServer, fields: dict[str, Any], named: str) -> None:
    sent = {name: value for name, value in body(**fields).items() if value is not None}
    status, _, reply = await post(url, sent)
    assert status == 400, reply
    assert named in anthropic_error(reply, "invalid_request_error")
    assert native_server.seen == []


async def test_a_body_that_is_not_json_is_refused_in_anthropics_shape(url: str) -> None:
    async with aiohttp.ClientSession() as session, session.post(
            f"{url}/v1/messages", data=b"{not json",
            headers=VERSION | {"Content-Type": "application/json"}) as response:
        assert response.status == 400
        anthropic_error(await response.json(), "invalid_request_error")


async def test_an_unknown_model_is_404_not_found_error(url: str) -> None:
    status, _, reply = await post(url, body(model="no-such-model"))
    assert status == 404
    assert "no-such-model" in anthropic_error(reply, "not_found_error")


async def test_the_server_key_as_x_api_key_or_bearer(native_registry: Registry,
                                                     start_server: StartServer) -> None:
    url = await start_server(native_registry, api_key=API_KEY)
    status, headers, reply = await post(url, body())
    assert status == 401 and "WWW-Authenticate" in headers
    anthropic_error(reply, "authentication_error")
    status, _, reply = await post(url, body(), headers={"x-api-key": "wrong-key-123456"})
    assert status == 401 and API_KEY not in json.dumps(reply)
    for header in ({"x-api-key": API_KEY}, {"Authorization": f"Bearer {API_KEY}"}):
        status, _, reply = await post(url, body(), headers=header)
        assert status == 200, reply


async def test_a_foreign_host_is_403_permission_error(url: str) -> None:
    status, _, reply = await post(url, body(), headers={"Host": "evil.example"})
    assert status == 403
    assert "evil.example" in anthropic_error(reply, "permission_error")


@pytest.mark.parametrize(("upstream", "status", "kind"), [
    (500, 529, "overloaded_error"),  # the provider is down: Anthropic's "overloaded"
    (400, 502, "api_error"),
    (403, 502, "api_error"),
])
async def test_provider_failures(mock_server: MockServer, strict_registry: Registry,
                                 start_server: StartServer, upstream: int, status: int,
                                 kind: str) -> None:
    url = await start_server(strict_registry)
    mock_server.fail.append((upstream, {}, '{"message": "upstream says no"}'))
    got, _, reply = await post(url, body(model="echo"))
    assert got == status
    assert "upstream says no" in anthropic_error(reply, kind)


async def test_429_carries_retry_after(mock_server: MockServer, strict_registry: Registry,
                                       start_server: StartServer) -> None:
    url = await start_server(strict_registry)
    mock_server.fail.append((429, {"Retry-After": "7"}, '{"message": "slow down"}'))
    status, headers, reply = await post(url, body(model="echo"))
    assert status == 429 and headers["Retry-After"] == "7"
    assert "slow down" in anthropic_error(reply, "rate_limit_error")


async def test_504_is_timeout_error(mock_server: MockServer, strict_registry: Registry,
                                    start_server: StartServer) -> None:
    mock_server.stall = 5.0  # past the registry's 0.5 s read timeout, before the first chunk
    url = await start_server(strict_registry)
    status, _, [(_, reply)] = await stream(url, body(model="echo"))
    assert status == 504
    anthropic_error(reply, "timeout_error")


@pytest.mark.parametrize("stream", [False, True])
async def test_no_secret_in_an_error(serve_app: Any, make_registry: Any,
                                     start_server: StartServer, stream: bool) -> None:
    upstream = await serve_app(echoing_app(401))
    registry = make_registry([CookieMock()], config={"mock": {"base_url": upstream,
                                                              "token": SECRET}},
                             retry=RetryPolicy(attempts=1))
    url = await start_server(registry, api_key=API_KEY)
    status, _, reply = await post(url, body(model="echo", stream=stream),
                                  headers={"x-api-key": API_KEY})
    assert status == 502
    text = json.dumps(reply)
    assert leaks(text) == [] and API_KEY not in text
    assert "***" in anthropic_error(reply, "api_error")


async def test_count_tokens_is_an_estimate_and_asks_no_provider(
        url: str, native_server: NativeServer) -> None:
    status, _, reply = await post(url, {"model": "omni", "system": "Be brief.",
                                        "messages": [{"role": "user", "content": "one two"}]},
                                  path="/v1/messages/count_tokens")
    assert status == 200, reply
    assert reply == {"input_tokens": 4, "jackfield_estimated": True}  # 16 characters
    status, _, reply = await post(url, {"model": "omni", "messages": USER, "tools": [
        {"name": "f", "input_schema": {"type": "object"}}]}, path="/v1/messages/count_tokens")
    assert status == 200 and reply["input_tokens"] > 1
    status, _, reply = await post(url, {"model": "nope", "messages": USER},
                                  path="/v1/messages/count_tokens")
    assert status == 404
    anthropic_error(reply, "not_found_error")
    status, _, reply = await post(url, {"model": "omni", "messages": USER, "max_tokens": 5},
                                  path="/v1/messages/count_tokens")
    assert status == 400 and "max_tokens" in anthropic_error(reply, "invalid_request_error")
    assert native_server.seen == []


async def test_models_in_anthropics_shape_with_anthropic_version(url: str) -> None:
    status, listing = await get(url, "/v1/models", VERSION)
    assert status == 200
    assert [m["id"] for m in listing["data"]] == ["omni", "thinker", "plain"]  # chat only
    assert listing["data"][0] | {"provider": None, "qualified_id": None} == {
        "type": "model", "id": "omni", "display_name": "omni",
        "created_at": "1970-01-01T00:00:00Z", "lifecycle": "active", "provider": None,
        "qualified_id": None}
    assert (listing["has_more"], listing["first_id"], listing["last_id"]) == (
        False, "omni", "plain")
    status, page = await get(url, "/v1/models?limit=1&after_id=omni", VERSION)
    assert [m["id"] for m in page["data"]] == ["thinker"] and page["has_more"] is True
    status, page = await get(url, "/v1/models?limit=2&before_id=plain", VERSION)
    assert [m["id"] for m in page["data"]] == ["omni", "thinker"] and not page["has_more"]
    status, model = await get(url, "/v1/models/thinker", VERSION)
    assert status == 200 and model["type"] == "model" and model["id"] == "thinker"
    status, openai_shaped = await get(url, "/v1/models")
    assert openai_shaped["object"] == "list"  # without the header: OpenAI's shape
    status, refused = await get(url, "/v1/models?limit=0", VERSION)
    assert status == 400 and "limit" in anthropic_error(refused, "invalid_request_error")
    status, refused = await get(url, "/v1/models/no-such-model", VERSION)
    assert status == 404 and "no-such-model" in anthropic_error(refused, "not_found_error")


async def test_a_cors_preflight_allows_anthropics_headers(
        native_registry: Registry, start_server: StartServer) -> None:
    url = await start_server(native_registry, cors_origins=["http://app.test"])
    async with aiohttp.ClientSession() as session, session.options(
            f"{url}/v1/messages", headers={
                "Origin": "http://app.test", "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "x-api-key, anthropic-version"}) as response:
        assert response.status == 204
        allowed = {name.strip().lower() for name in
                   response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"x-api-key", "anthropic-version", "anthropic-beta",
            "anthropic-dangerous-direct-browser-access"} <= allowed


async def test_the_mock_provider_answers_through_messages(
        mock_server: MockServer, serve_app: Any, make_registry: Any,
        start_server: StartServer) -> None:
    upstream = await serve_app(mock_server.app)
    registry = make_registry([MockProvider()], base_urls={"mock": upstream})
    url = await start_server(registry)
    status, _, reply = await post(url, body(model="echo"))
    assert status == 200 and reply["content"] == [{"type": "text", "text": "You said: hi"}]
