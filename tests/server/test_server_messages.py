"""POST /v1/messages, not streamed: Anthropic's request fields as the provider receives them
(under the core's OpenAI names), the `message` reply, tools, images, warnings, strict mode."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from messages_helpers import body, post
from server_helpers import StartServer

from jackfield import Registry, RetryPolicy
from jackfield._server.chat_shapes import WARNINGS_HEADER
from nativeprovider import NativeProvider, NativeServer

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
WEATHER = {"name": "get_weather", "description": "The weather in a city.",
           "input_schema": {"type": "object", "properties": {"city": {"type": "string"}},
                            "required": ["city"]}}
OPENAI_WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city.",
    "parameters": WEATHER["input_schema"]}}


@pytest.fixture
async def url(native_registry: Registry, start_server: StartServer) -> str:
    return await start_server(native_registry)


async def server_over(native_server: NativeServer, serve_app: Any, make_registry: Any,
                      start_server: StartServer, **settings: Any) -> str:
    """Return the URL of a server over the native provider with the registry's settings."""
    upstream = await serve_app(native_server.app)
    registry = make_registry([NativeProvider()], base_urls={"native": upstream},
                             retry=RetryPolicy(attempts=1), **settings)
    return await start_server(registry)


def warned(headers: dict[str, str]) -> dict[str, str]:
    return {entry["param"]: entry["message"] for entry in json.loads(headers[WARNINGS_HEADER])}


async def test_a_plain_message_and_what_the_provider_got(url: str,
                                                         native_server: NativeServer) -> None:
    status, headers, reply = await post(url, body(
        system="Be brief.", temperature=0.5, top_p=0.9, stop_sequences=["END"]))
    assert status == 200, reply
    assert reply["id"].startswith("msg_") and reply["type"] == "message"
    assert reply["role"] == "assistant" and reply["model"] == "omni"
    assert reply["content"] == [{"type": "text", "text": "You said: one two"}]
    assert reply["stop_reason"] == "end_turn" and reply["stop_sequence"] is None
    assert reply["usage"]["input_tokens"] == 5 and reply["usage"]["output_tokens"] == 3
    assert reply["usage"]["jackfield_estimated"] is False
    assert reply["provider"] == "native" and WARNINGS_HEADER not in headers
    [sent] = native_server.seen
    assert sent["messages"] == [{"role": "system", "content": "Be brief."},
                                {"role": "user", "content": "one two"}]
    assert sent["max_tokens"] == 64 and sent["temperature"] == 0.5 and sent["top_p"] == 0.9
    assert sent["stop"] == ["END"]


async def test_system_blocks_and_content_blocks_are_joined(
        url: str, native_server: NativeServer) -> None:
    status, _, reply = await post(url, body(
        system=[{"type": "text", "text": "One."}, {"type": "text", "text": "Two."}],
        messages=[{"role": "user", "content": [{"type": "text", "text": "a "},
                                               {"type": "text", "text": "b"}]},
                  {"role": "assistant", "content": [{"type": "text", "text": "ok"}]},
                  {"role": "system", "content": [{"type": "text", "text": "Now French."}]},
                  {"role": "user", "content": "c"}]))
    assert status == 200, reply
    assert native_server.seen[0]["messages"] == [
        {"role": "system", "content": "One.\nTwo."}, {"role": "user", "content": "a b"},
        {"role": "assistant", "content": "ok"}, {"role": "system", "content": "Now French."},
        {"role": "user", "content": "c"}]


async def test_length_is_max_tokens_and_usage_is_estimated_without_the_providers(
        url: str, native_server: NativeServer) -> None:
    native_server.finish, native_server.usage = "length", False
    status, _, reply = await post(url, body())
    assert status == 200
    assert reply["stop_reason"] == "max_tokens"
    assert reply["usage"]["jackfield_estimated"] is True
    assert reply["usage"]["input_tokens"] == 2  # "one two": 7 characters, 4 to a token
    assert reply["usage"]["output_tokens"] == 5  # "You said: one two"


async def test_a_tool_call_and_its_result_round_trip(url: str,
                                                     native_server: NativeServer) -> None:
    status, _, reply = await post(url, body(
        tools=[WEATHER], tool_choice={"type": "any", "disable_parallel_tool_use": True}))
    assert status == 200, reply
    assert reply["stop_reason"] == "tool_use"
    [call] = reply["content"]
    assert call == {"type": "tool_use", "id": "call_1", "name": "get_weather",
                    "input": {"city": "sunny"}}
    sent = native_server.seen[0]
    assert sent["tools"] == [OPENAI_WEATHER]
    assert sent["tool_choice"] == "required" and sent["parallel_tool_calls"] is False
    history = [{"role": "user", "content": "one two"},
               {"role": "assistant", "content": [{"type": "text", "text": "Let me see."},
                                                 call]},
               {"role": "user", "content": [
                   {"type": "tool_result", "tool_use_id": "call_1",
                    "content": [{"type": "text", "text": "12 C"}]},
                   {"type": "text", "text": "And?"}]}]
    status, _, reply = await post(url, body(messages=history, tools=[WEATHER]))
    assert status == 200, reply
    assert native_server.seen[1]["messages"] == [
        {"role": "user", "content": "one two"},
        {"role": "assistant", "content": "Let me see.", "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "get_weather", "arguments": '{"city": "sunny"}'}}]},
        {"role": "tool", "content": "12 C", "tool_call_id": "call_1"},
        {"role": "user", "content": "And?"}]


async def test_a_failed_tool_says_so_and_a_named_tool_is_chosen(
        url: str, native_server: NativeServer) -> None:
    history = [{"role": "user", "content": "hi"},
               {"role": "assistant", "content": [
                   {"type": "tool_use", "id": "t1", "name": "get_weather", "input": {}}]},
               {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1",
                                             "content": "no such city", "is_error": True}]}]
    status, _, reply = await post(url, body(messages=history, tools=[WEATHER]))
    assert status == 200, reply
    assert reply["content"] == [{"type": "text", "text": "The tool said Error: no such city"}]
    status, _, reply = await post(url, body(
        tools=[{"name": "other", "input_schema": {"type": "object"}}, WEATHER],
        tool_choice={"type": "tool", "name": "get_weather"}))
    assert status == 200 and reply["content"][0]["name"] == "get_weather"
    assert native_server.seen[1]["tool_choice"] == {"type": "function",
                                                    "function": {"name": "get_weather"}}
    status, _, reply = await post(url, body(tools=[WEATHER], tool_choice={"type": "none"}))
    assert status == 200 and reply["stop_reason"] == "end_turn"
    assert native_server.seen[2]["tool_choice"] == "none"


async def test_images_as_base64_and_url(url: str, native_server: NativeServer) -> None:
    data = base64.b64encode(PNG).decode()
    status, _, reply = await post(url, body(messages=[{"role": "user", "content": [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                     "data": data}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
        {"type": "text", "text": "What are these?"}]}]))
    assert status == 200, reply
    assert reply["content"][0]["text"] == "You said: What are these? [2 images]"
    assert native_server.seen[0]["messages"][0]["content"] == [
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
        {"type": "text", "text": "What are these?"}]


async def test_an_image_in_a_tool_result_follows_the_results(
        url: str, native_server: NativeServer) -> None:
    data = base64.b64encode(PNG).decode()
    history = [{"role": "user", "content": "look"},
               {"role": "assistant", "content": [
                   {"type": "tool_use", "id": "t1", "name": "get_weather", "input": {}}]},
               {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1",
                                             "content": [
                                                 {"type": "text", "text": "shot"},
                                                 {"type": "image", "source": {
                                                     "type": "base64", "data": data,
                                                     "media_type": "image/png"}}]}]}]
    status, headers, reply = await post(url, body(messages=history, tools=[WEATHER]))
    assert status == 200, reply
    sent = native_server.seen[0]["messages"]
    assert sent[2] == {"role": "tool", "content": "shot", "tool_call_id": "t1"}
    assert sent[3]["role"] == "user" and sent[3]["content"][1]["type"] == "image_url"
    assert "tool_result.content" in warned(headers)


async def test_thinking_maps_to_reasoning_effort_and_comes_back_as_a_block(
        url: str, native_server: NativeServer) -> None:
    status, _, reply = await post(url, body(
        model="thinker", max_tokens=9000, thinking={"type": "enabled", "budget_tokens": 5000}))
    assert status == 200, reply
    assert native_server.seen[0]["reasoning_effort"] == "medium"
    assert reply["content"] == [
        {"type": "thinking", "thinking": "Thinking about it.", "signature": ""},
        {"type": "text", "text": "You said: one two"}]
    await post(url, body(model="thinker", thinking={"type": "disabled"},
                         output_config={"effort": "max"}))
    assert native_server.seen[1]["reasoning_effort"] == "xhigh"


async def test_output_config_format_is_a_json_schema(url: str,
                                                     native_server: NativeServer) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    status, _, reply = await post(url, body(output_config={
        "format": {"type": "json_schema", "schema": schema}}))
    assert status == 200, reply
    assert json.loads(reply["content"][0]["text"]) == {"n": 7}
    assert native_server.seen[0]["response_format"]["json_schema"]["schema"] == schema


async def test_fields_without_a_core_parameter_are_warned_not_sent(
        url: str, native_server: NativeServer) -> None:
    status, headers, reply = await post(url, body(
        top_k=5, metadata={"user_id": "user-123"}, service_tier="auto",
        context_management={"edits": [{"type": "clear_tool_uses_20250919"}]},
        tools=[WEATHER | {"eager_input_streaming": True, "defer_loading": True}],
        messages=[{"role": "user", "content": [
            {"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}]}]))
    assert status == 200, reply
    warnings = warned(headers)
    assert set(warnings) == {"top_k", "metadata.user_id", "service_tier", "cache_control",
                             "context_management", "eager_input_streaming", "defer_loading"}
    assert "not sent on" in warnings["metadata.user_id"]
    assert {w["param"] for w in reply["jackfield_warnings"]} == set(warnings)
    sent = json.dumps(native_server.seen[0])
    assert "user-123" not in sent and "top_k" not in sent and "ephemeral" not in sent
    assert "clear_tool_uses" not in sent and "eager" not in sent and "defer" not in sent
    assert native_server.seen[0]["tools"] == [OPENAI_WEATHER]  # deferred: offered anyway


async def test_strict_mode_refuses_what_it_would_only_warn_about(
        native_server: NativeServer, serve_app: Any, make_registry: Any,
        start_server: StartServer) -> None:
    url = await server_over(native_server, serve_app, make_registry, start_server, strict=True)
    status, _, reply = await post(url, body(top_k=5))
    assert status == 400
    assert reply["type"] == "error" and reply["error"]["type"] == "invalid_request_error"
    assert "top_k" in reply["error"]["message"] and "strict mode" in reply["error"]["message"]
    assert native_server.seen == []
    status, _, reply = await post(url, body())
    assert status == 200, reply


async def test_thinking_blocks_of_earlier_turns_are_reported(
        url: str, native_server: NativeServer) -> None:
    status, headers, _ = await post(url, body(messages=[
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "sig"},
            {"type": "text", "text": "hello"}]},
        {"role": "user", "content": "again"}]))
    assert status == 200
    assert "thinking_blocks" in warned(headers)
    assert native_server.seen[0]["messages"][1] == {"role": "assistant", "content": "hello"}


async def test_prompted_tools_reach_a_model_without_native_tools(
        native_server: NativeServer, serve_app: Any, make_registry: Any,
        start_server: StartServer) -> None:
    url = await server_over(native_server, serve_app, make_registry, start_server,
                            prompted=True)
    native_server.script.append({"role": "assistant", "content": json.dumps(
        {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]})})
    status, headers, reply = await post(url, body(model="plain", tools=[WEATHER]))
    assert status == 200, reply
    assert headers["X-Jackfield-Emulated"] == "tools"
    assert reply["stop_reason"] == "tool_use"
    assert [(b["type"], b["name"], b["input"]) for b in reply["content"]] == [
        ("tool_use", "get_weather", {"city": "Oslo"})]
    assert "tools" not in native_server.seen[0]


async def test_a_reply_block_replayed_with_its_null_fields_is_history(
        url: str, native_server: NativeServer) -> None:
    # anthropic 2.15's `block.model_dump()` of a tool_use block carries fields of the reply
    # as null (toolset_name, caller); a client that replays it sends them back.
    call = {"type": "tool_use", "id": "call_1", "name": "get_weather",
            "input": {"city": "Oslo"}, "toolset_name": None, "caller": None}
    history = [{"role": "user", "content": "weather?"},
               {"role": "assistant", "content": [
                   {"type": "text", "text": "Let me see.", "citations": None}, call]},
               {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_1",
                                             "content": "12 C"}]}]
    status, _, reply = await post(url, body(messages=history, tools=[WEATHER]))
    assert status == 200, reply
    assert native_server.seen[0]["messages"][1]["tool_calls"][0]["function"]["name"] == (
        "get_weather")
    # A field with a value is still refused, naming it.
    call["toolset_name"] = "weather-tools"
    status, _, reply = await post(url, body(messages=history, tools=[WEATHER]))
    assert status == 400 and reply["error"]["type"] == "invalid_request_error"
    assert "messages[1].content[1].toolset_name" in reply["error"]["message"]
