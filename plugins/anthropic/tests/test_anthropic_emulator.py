"""The emulator on its own, over plain HTTP: what it refuses (each with Anthropic's error
object and status), the exact event sequence of a stream, the paged model list."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from anthropic_helpers import KEY, SONNET, reply_to

from jackfield.testing import Emulator

HEADERS = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
BODY = {"model": SONNET, "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}
USE = {"type": "tool_use", "id": "toolu_1", "name": "clock", "input": {}}
RESULT = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "noon"}
CLOCK = [{"name": "clock", "input_schema": {"type": "object", "properties": {}}}]


async def post(http: aiohttp.ClientSession, emulator: Emulator, body: Any,
               headers: dict[str, str] | None = None) -> tuple[int, Any]:
    async with http.post(f"{emulator.url}/v1/messages", json=body,
                         headers=HEADERS if headers is None else headers) as response:
        return response.status, await response.json()


@pytest.mark.parametrize(("headers", "status", "kind", "message"), [
    ({"anthropic-version": "2023-06-01"}, 401, "authentication_error",
     "x-api-key header is required"),
    ({**HEADERS, "x-api-key": "sk-ant-wrong"}, 401, "authentication_error",
     "invalid x-api-key"),
    ({"x-api-key": KEY}, 400, "invalid_request_error", "anthropic-version: header is required"),
    ({**HEADERS, "anthropic-version": "2024-13-01"}, 400, "invalid_request_error",
     "anthropic-version: invalid version"),
])
async def test_headers(headers: dict[str, str], status: int, kind: str, message: str,
                       http: aiohttp.ClientSession, emulator: Emulator) -> None:
    got, body = await post(http, emulator, BODY, headers)
    assert got == status and body["type"] == "error"
    assert body["error"]["type"] == kind and body["error"]["message"].startswith(message)
    assert body["request_id"].startswith("req_")


@pytest.mark.parametrize(("change", "message"), [
    ({"max_tokens": None}, "max_tokens: Field required"),
    ({"max_tokens": "100"}, "max_tokens: Input should be a valid integer"),
    ({"max_tokens": True}, "max_tokens: Input should be a valid integer"),
    ({"frequency_penalty": 0.1}, "frequency_penalty: Extra inputs are not permitted"),
    ({"temperature": 1.5}, "temperature: Input should be less than or equal to 1"),
    ({"max_tokens": 64001}, "64001 > 64000, which is the maximum allowed"),
    ({"stop_sequences": [" "]}, "each stop sequence must contain non-whitespace"),
    ({"messages": []}, "messages: at least one message is required"),
    ({"messages": [{"role": "system", "content": "x"}]}, 'Unexpected role "system"'),
    ({"messages": [{"role": "user", "content": "hi", "name": "Al"}]},
     "messages.0.name: Extra inputs are not permitted"),
    ({"messages": [{"role": "user", "content": ""}]}, "must have non-empty content"),
    ({"messages": [{"role": "user", "content": [{"type": "text", "text": ""}]}]},
     "text content blocks must be non-empty"),
    ({"messages": [{"role": "user", "content": [{"type": "image", "source": {
        "type": "base64", "media_type": "image/bmp", "data": "AAAA"}}]}]},
     "source.media_type: Input should be"),
    ({"messages": [{"role": "user", "content": [RESULT]}]}, "unexpected `tool_use_id`"),
    ({"messages": [{"role": "user", "content": "time?"}, {"role": "assistant",
                                                           "content": [USE]},
                   {"role": "user", "content": "well?"}], "tools": CLOCK},
     "`tool_use` ids were found without `tool_result` blocks immediately after: toolu_1"),
    ({"messages": [{"role": "user", "content": "time?"}, {"role": "assistant",
                                                           "content": [USE]},
                   {"role": "user", "content": [{"type": "text", "text": "so"}, RESULT]}],
      "tools": CLOCK}, "`tool_result` blocks must come before any other content"),
    ({"tool_choice": {"type": "auto"}}, "tool_choice may only be specified while providing "
                                        "tools"),
    ({"tools": CLOCK, "tool_choice": {"type": "tool", "name": "calendar"}},
     "Tool 'calendar' not found"),
    ({"tools": [{"name": "bad name", "input_schema": {"type": "object"}}]},
     "String should match pattern"),
    ({"thinking": {"type": "enabled", "budget_tokens": 100}}, "greater than or equal to 1024"),
    ({"thinking": {"type": "enabled", "budget_tokens": 2000}}, "`max_tokens` must be greater"),
    ({"thinking": {"type": "enabled", "budget_tokens": 1024}, "max_tokens": 2000,
      "temperature": 0.5}, "`temperature` may only be set to 1"),
    ({"thinking": {"type": "enabled", "budget_tokens": 1024}, "max_tokens": 2000,
      "tools": CLOCK, "tool_choice": {"type": "any"}}, "tool_choice forces tool use"),
    ({"thinking": {"type": "enabled", "budget_tokens": 1024}, "max_tokens": 2000,
      "tools": CLOCK, "messages": [{"role": "user", "content": "time?"},
                                   {"role": "assistant", "content": [USE]},
                                   {"role": "user", "content": [RESULT]}]},
     "a final `assistant` message must start with a thinking block"),
    ({"model": "claude-3-5-haiku-20241022", "thinking": {"type": "enabled",
                                                          "budget_tokens": 1024},
      "max_tokens": 2000}, "does not support thinking"),
])
async def test_refusals(change: dict[str, Any], message: str, http: aiohttp.ClientSession,
                        emulator: Emulator) -> None:
    body = {**BODY, **change}
    body = {name: value for name, value in body.items() if value is not None}
    status, reply = await post(http, emulator, body)
    assert (status, reply["error"]["type"]) == (400, "invalid_request_error"), reply
    assert message in reply["error"]["message"]


async def test_an_unknown_model_is_404(http: aiohttp.ClientSession, emulator: Emulator) -> None:
    status, reply = await post(http, emulator, {**BODY, "model": "claude-9"})
    assert status == 404 and reply["error"] == {"type": "not_found_error",
                                                "message": "model: claude-9"}


async def test_adaptive_thinking_needs_no_budget(http: aiohttp.ClientSession,
                                                 emulator: Emulator) -> None:
    status, reply = await post(http, emulator, {**BODY, "thinking": {"type": "adaptive"}})
    assert status == 200 and reply["content"][0]["thinking"] == "Thinking about: hi"
    status, reply = await post(http, emulator, {**BODY, "thinking": {
        "type": "adaptive", "budget_tokens": 2048}})
    assert status == 400 and "Extra inputs" in reply["error"]["message"]


async def test_an_undated_id_names_the_dated_model(http: aiohttp.ClientSession,
                                                   emulator: Emulator) -> None:
    status, reply = await post(http, emulator, {**BODY, "model": "claude-sonnet-4-5"})
    assert status == 200 and reply["model"] == "claude-sonnet-4-5"


async def test_same_role_turns_are_combined_as_the_api_does(
        http: aiohttp.ClientSession, emulator: Emulator) -> None:
    status, reply = await post(http, emulator, {**BODY, "messages": [
        {"role": "user", "content": "first"}, {"role": "user", "content": "second"}]})
    assert status == 200 and reply["content"][0]["text"] == reply_to("first second")


async def test_the_stream_is_the_apis_event_sequence(http: aiohttp.ClientSession,
                                                     emulator: Emulator) -> None:
    body = {**BODY, "stream": True, "max_tokens": 3000, "tools": CLOCK,
            "thinking": {"type": "enabled", "budget_tokens": 1024}}
    async with http.post(f"{emulator.url}/v1/messages", json=body, headers=HEADERS) as response:
        assert response.content_type == "text/event-stream"
        raw = (await response.read()).decode()
    frames = [frame.split("\n") for frame in raw.strip().split("\n\n")]
    events = [(name.removeprefix("event: "), json.loads(data.removeprefix("data: ")))
              for name, data in frames]
    assert all(name == data["type"] for name, data in events)
    kinds = [(name, data.get("content_block", data.get("delta", {})).get("type"))
             for name, data in events]
    assert kinds[:3] == [("message_start", None), ("content_block_start", "thinking"),
                         ("ping", None)]
    assert ("content_block_delta", "signature_delta") in kinds
    assert ("content_block_start", "tool_use") in kinds
    assert ("content_block_delta", "input_json_delta") in kinds
    assert kinds[-2:] == [("message_delta", None), ("message_stop", None)]
    start = events[0][1]["message"]
    assert start["content"] == [] and start["stop_reason"] is None
    assert events[-2][1]["delta"] == {"stop_reason": "tool_use", "stop_sequence": None}
    arguments = "".join(data["delta"]["partial_json"] for _, data in events
                        if data.get("delta", {}).get("type") == "input_json_delta")
    assert json.loads(arguments) == {}


async def test_the_model_list_is_paged(http: aiohttp.ClientSession, emulator: Emulator) -> None:
    async def page(query: str) -> Any:
        async with http.get(f"{emulator.url}/v1/models{query}", headers=HEADERS) as response:
            assert response.status == 200
            return await response.json()

    first = await page("?limit=2")
    assert len(first["data"]) == 2 and first["has_more"] is True
    assert first["data"][0] == {"type": "model", "id": SONNET, "display_name":
                                "Claude Sonnet 4.5", "created_at": "2025-09-29T00:00:00Z"}
    rest = await page(f"?limit=10&after_id={first['last_id']}")
    assert rest["has_more"] is False and len(rest["data"]) == 3
    before = await page(f"?before_id={rest['first_id']}")
    assert [m["id"] for m in before["data"]] == [m["id"] for m in first["data"]]
    async with http.get(f"{emulator.url}/v1/models/claude-9", headers=HEADERS) as response:
        assert response.status == 404
