"""POST /v1/responses not streamed, with the openai SDK: what reaches the provider for each
field, the `response` object as `openai.types.responses.Response` validates it, a function
tool round trip, json_schema with `responses.parse`, images, and what is refused (before
any provider call) or reported."""

from __future__ import annotations

import json
from typing import Any

import openai
import pydantic
import pytest
from openai.types.responses import Response
from server_helpers import MakeClient, StartServer, raw

from jackfield import Registry, RetryPolicy
from jackfield.testing import png_bytes
from nativeprovider import NativeProvider, NativeServer

WEATHER = {"type": "function", "name": "get_weather", "description": "The weather in a city.",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                          "required": ["city"]}}
CHAT_WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city.",
    "parameters": WEATHER["parameters"]}}


def png_url() -> str:
    import base64

    return "data:image/png;base64," + base64.b64encode(png_bytes("a cat")).decode()


async def post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    return await raw("POST", f"{url}/v1/responses", data=json.dumps(body).encode(),
                     headers={"content-type": "application/json"})


@pytest.fixture
async def url(native_registry: Registry, start_server: StartServer) -> str:
    return await start_server(native_registry)


async def test_a_string_input_is_one_user_turn_answered_as_a_response(
        url: str, native_server: NativeServer) -> None:
    status, headers, body = await post(url, {"model": "gpt-4o", "input": "hi there"})
    assert status == 200, body
    response = Response.model_validate(body)  # validated, not only constructed
    assert response.id.startswith("resp_") and response.object == "response"
    assert response.status == "completed" and response.error is None
    assert response.model == "omni" and body["provider"] == "native"
    assert response.output_text == "You said: hi there"
    [message] = response.output
    assert message.type == "message" and message.id.startswith("msg_")
    assert message.role == "assistant" and message.status == "completed"
    [part] = message.content
    assert part.type == "output_text" and part.annotations == []
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens,
            response.usage.total_tokens) == (5, 3, 8)
    assert response.usage.input_tokens_details.cached_tokens == 0
    assert response.usage.output_tokens_details.reasoning_tokens == 0
    assert response.store is False and response.tools == [] and response.tool_choice == "auto"
    assert native_server.seen[-1]["messages"] == [{"role": "user", "content": "hi there"}]
    assert "X-Jackfield-Warnings" not in headers


async def test_instructions_and_message_items_become_the_conversation(
        native_api: openai.AsyncOpenAI, native_server: NativeServer) -> None:
    response = await native_api.responses.create(model="omni", instructions="Be brief.", input=[
        {"role": "developer", "content": "Answer in English."},
        {"role": "user", "content": [{"type": "input_text", "text": "first"}]},
        {"type": "message", "role": "assistant", "id": "msg_1", "status": "completed",
         "content": [{"type": "output_text", "text": "earlier", "annotations": []}]},
        {"role": "user", "content": "second"}])
    assert response.output_text == "You said: second"
    assert native_server.seen[-1]["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "system", "content": "Answer in English."},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "earlier"},
        {"role": "user", "content": "second"}]
    assert response.instructions == "Be brief."


async def test_a_function_tool_round_trip(native_api: openai.AsyncOpenAI,
                                          native_server: NativeServer) -> None:
    user = {"role": "user", "content": "What is the weather in Oslo?"}
    first = await native_api.responses.create(model="omni", input=[user], tools=[WEATHER],
                                              tool_choice="required",
                                              parallel_tool_calls=False)
    sent = native_server.seen[-1]
    assert sent["tools"] == [CHAT_WEATHER]
    assert sent["tool_choice"] == "required" and sent["parallel_tool_calls"] is False
    [call] = first.output
    assert call.type == "function_call" and call.id is not None and call.id.startswith("fc_")
    assert call.call_id == "call_1" and call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "sunny"} and call.status == "completed"
    assert first.output_text == "" and first.status == "completed"
    assert first.tools[0].type == "function" and first.tools[0].name == "get_weather"
    second = await native_api.responses.create(model="omni", tools=[WEATHER], input=[
        user, call.model_dump(exclude_none=True),
        {"type": "function_call_output", "call_id": call.call_id, "output": "21 degrees"}])
    assert second.output_text == "The tool said 21 degrees"
    messages = native_server.seen[-1]["messages"]
    assert messages[1] == {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function",
         "function": {"name": "get_weather", "arguments": call.arguments}}]}
    assert messages[2] == {"role": "tool", "content": "21 degrees", "tool_call_id": "call_1"}


async def test_text_then_calls_are_one_assistant_turn_and_outputs_may_be_parts(
        native_api: openai.AsyncOpenAI, native_server: NativeServer) -> None:
    await native_api.responses.create(model="omni", input=[
        {"role": "user", "content": "two cities"},
        {"role": "assistant", "content": "Looking both up."},
        {"type": "function_call", "call_id": "a", "name": "get_weather", "arguments": "{}"},
        {"type": "function_call", "call_id": "b", "name": "get_weather", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "a", "output": "sun"},
        {"type": "function_call_output", "call_id": "b",
         "output": [{"type": "input_text", "text": "rain"}]}])
    messages = native_server.seen[-1]["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "tool"]
    assert messages[1]["content"] == "Looking both up."
    assert [c["id"] for c in messages[1]["tool_calls"]] == ["a", "b"]
    assert messages[3] == {"role": "tool", "content": "rain", "tool_call_id": "b"}


async def test_tool_choice_by_name_and_allowed_tools(native_api: openai.AsyncOpenAI,
                                                     native_server: NativeServer) -> None:
    other = WEATHER | {"name": "get_time", "description": "The time."}
    named = await native_api.responses.create(
        model="omni", input="Oslo?", tools=[WEATHER, other],
        tool_choice={"type": "function", "name": "get_time"})
    assert native_server.seen[-1]["tool_choice"] == {"type": "function",
                                                     "function": {"name": "get_time"}}
    assert named.output[0].type == "function_call" and named.output[0].name == "get_time"
    await native_api.responses.create(
        model="omni", input="Oslo?", tools=[WEATHER, other],
        tool_choice={"type": "allowed_tools", "mode": "required",
                     "tools": [{"type": "function", "name": "get_time"}]})
    sent = native_server.seen[-1]
    assert [tool["function"]["name"] for tool in sent["tools"]] == ["get_time"]
    assert sent["tool_choice"] == "required"


class Weather(pydantic.BaseModel):
    city: str
    degrees: int


async def test_json_schema_and_json_object_formats(native_api: openai.AsyncOpenAI,
                                                   native_server: NativeServer) -> None:
    parsed = await native_api.responses.parse(model="omni", input="Oslo", text_format=Weather)
    assert parsed.output_parsed == Weather(city="sunny", degrees=7)
    format_sent = native_server.seen[-1]["response_format"]
    assert format_sent["type"] == "json_schema"
    assert format_sent["json_schema"]["name"] == "Weather"
    assert format_sent["json_schema"]["strict"] is True
    assert parsed.text is not None and parsed.text.format.type == "json_schema"
    as_object = await native_api.responses.create(model="omni", input="Oslo",
                                                  text={"format": {"type": "json_object"}})
    assert json.loads(as_object.output_text) == {"answer": "Oslo"}
    assert native_server.seen[-1]["response_format"] == {"type": "json_object"}


async def test_an_image_reaches_the_provider_as_an_image_part(
        native_api: openai.AsyncOpenAI, native_server: NativeServer) -> None:
    response = await native_api.responses.create(model="omni", input=[{"role": "user", "content": [
        {"type": "input_text", "text": "What is this?"},
        {"type": "input_image", "image_url": png_url(), "detail": "low"}]}])
    assert response.output_text == "You said: What is this? [1 images]"
    [message] = native_server.seen[-1]["messages"]
    assert message["content"][1] == {"type": "image_url",
                                     "image_url": {"url": png_url(), "detail": "low"}}


async def test_sampling_limits_and_reasoning(native_api: openai.AsyncOpenAI,
                                             native_server: NativeServer) -> None:
    response = await native_api.responses.create(
        model="thinker", input="think", max_output_tokens=50, temperature=0.5, top_p=0.9,
        reasoning={"effort": "low", "summary": "auto"})
    sent = native_server.seen[-1]
    assert (sent["max_tokens"], sent["temperature"], sent["top_p"]) == (50, 0.5, 0.9)
    assert sent["reasoning_effort"] == "low"
    reasoning, message = response.output
    assert reasoning.type == "reasoning" and reasoning.id.startswith("rs_")
    assert [s.text for s in reasoning.summary] == ["Thinking about it."]
    assert message.type == "message" and response.output_text == "You said: think"
    assert response.max_output_tokens == 50 and response.temperature == 0.5
    assert response.reasoning is not None and response.reasoning.effort == "low"


async def test_a_reply_cut_by_max_output_tokens_is_incomplete(
        native_api: openai.AsyncOpenAI, native_server: NativeServer) -> None:
    native_server.finish = "length"
    response = await native_api.responses.create(model="omni", input="hi",
                                                 max_output_tokens=3)
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.output[0].type == "message" and response.output[0].status == "incomplete"


async def test_what_is_accepted_but_not_done_is_a_warning(url: str,
                                                          native_server: NativeServer) -> None:
    status, headers, body = await post(url, {
        "model": "omni", "store": True, "truncation": "auto", "metadata": {"k": "v"},
        "user": "someone", "input": [
            {"type": "reasoning", "id": "rs_1", "summary": [
                {"type": "summary_text", "text": "earlier thoughts"}]},
            {"role": "user", "content": "hi"}]})
    assert status == 200, body
    warned = [entry["param"] for entry in json.loads(headers["X-Jackfield-Warnings"])]
    assert {"store", "truncation", "input[0]", "metadata", "user"} <= set(warned)
    assert [w["param"] for w in body["jackfield_warnings"]] == warned
    assert body["metadata"] == {"k": "v"} and body["user"] == "someone"
    assert native_server.seen[-1]["messages"] == [{"role": "user", "content": "hi"}]
    assert "metadata" not in native_server.seen[-1]
    status, headers, _ = await post(url, {"model": "omni", "store": False, "input": "hi",
                                          "include": []})
    assert status == 200 and "X-Jackfield-Warnings" not in headers  # no noise for these


async def test_strict_mode_refuses_what_it_would_only_warn_about(
        native_server: NativeServer, serve_app: Any, make_registry: Any,
        start_server: StartServer) -> None:
    registry = make_registry([NativeProvider()],
                             base_urls={"native": await serve_app(native_server.app)},
                             retry=RetryPolicy(attempts=1), strict=True)
    url = await start_server(registry)
    status, _, body = await post(url, {"model": "omni", "input": "hi", "store": True})
    assert status == 400 and body["error"]["param"] == "store"
    assert "strict mode" in body["error"]["message"]
    assert native_server.seen == []


REFUSED = [
    ({"previous_response_id": "resp_1"}, "previous_response_id", "stateless"),
    ({"conversation": "conv_1"}, "conversation", "stateless"),
    ({"prompt": {"id": "pmpt_1"}}, "prompt", "stores nothing"),
    ({"background": True}, "background", "stores nothing"),
    ({"tools": [{"type": "web_search"}]}, "tools[0].type", "'web_search'"),
    ({"tools": [WEATHER, {"type": "file_search", "vector_store_ids": ["v"]}]},
     "tools[1].type", "'file_search'"),
    ({"tool_choice": {"type": "web_search_preview"}}, "tool_choice", "built-in"),
    ({"max_tokens": 5}, "max_tokens", "max_output_tokens"),
    ({"response_format": {"type": "json_object"}}, "response_format", "text.format"),
    ({"messages": []}, "messages", "'input'"),
    ({"stop": ["x"]}, "stop", "/v1/chat/completions"),
    ({"timeout": 5}, "timeout", "server's"),
    ({"some_option": 1}, "some_option", "does not accept"),
    ({"include": ["everything"]}, "include", "'everything'"),
    ({"top_logprobs": 2}, "top_logprobs", "include"),
    ({"max_output_tokens": 0}, "max_output_tokens", "at least 1"),
    ({"reasoning": {"effort": "maximal"}}, "reasoning_effort", "maximal"),
    ({"text": {"format": {"type": "json_schema", "name": "x"}}}, "text.format.schema",
     "schema"),
    ({"stream": "yes"}, "stream", "true or false"),
    ({"input": ""}, "input", "empty"),
    ({"input": None}, "input", "required"),
    ({"input": [{"role": "system", "content": "only rules"}]}, "input", "no user input"),
    ({"input": [{"type": "item_reference", "id": "msg_1"}]}, "input[0].type", "stateless"),
    ({"input": [{"type": "computer_call", "id": "c"}]}, "input[0].type", "computer_call"),
    ({"input": [{"role": "tool", "content": "x"}]}, "input[0].role", "developer"),
    ({"input": [{"role": "user", "content": "x", "name": "me"}]}, "input[0].name",
     "not a field"),
    ({"input": [{"type": "function_call_output", "call_id": "nope", "output": "x"}]},
     "input[0].call_id", "keeps no earlier responses"),
    ({"input": [{"role": "user", "content": [{"type": "input_image", "file_id": "f"}]}]},
     "input[0].content[0].file_id", "file storage"),
    ({"input": [{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}]},
     "input[0].content[0]", "input_file"),
    ({"input": [{"role": "user", "content": [
        {"type": "input_image", "image_url": "data:image/png;base64,AAAA"}]}]},
     "input[0].content[0].image_url", "image"),
    ({"input": [{"role": "assistant", "content": [{"type": "input_text", "text": "x"}]},
                {"role": "user", "content": "y"}]},
     "input[0].content[0].type", "output_text or refusal"),
]


@pytest.mark.parametrize(("fields", "param", "said"), REFUSED)
async def test_bad_input_is_refused_before_any_provider_call(
        url: str, native_server: NativeServer, fields: dict[str, Any], param: str | None,
        said: str) -> None:
    status, _, body = await post(url, {"model": "omni", "input": "hi"} | fields)
    assert status == 400, body
    error = body["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param and said in error["message"], error
    assert native_server.seen == []


async def test_stored_responses_are_a_404_that_says_why(url: str) -> None:
    for method, path in (("GET", "/v1/responses/resp_1"), ("DELETE", "/v1/responses/resp_1"),
                         ("GET", "/v1/responses/resp_1/input_items"),
                         ("POST", "/v1/responses/resp_1/cancel")):
        status, _, body = await raw(method, url + path)
        assert status == 404, (method, path)
        assert body["error"]["code"] == "response_not_found"
        assert "stateless" in body["error"]["message"]


async def test_provider_failures_and_unknown_models_are_openai_errors(
        native_api: openai.AsyncOpenAI, native_server: NativeServer) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        await native_api.responses.create(model="no-such-model", input="hi")
    assert isinstance(missing.value.body, dict)
    assert missing.value.body["code"] == "model_not_found"
    native_server.fail = [500]
    with pytest.raises(openai.APIStatusError) as failed:
        await native_api.responses.create(model="omni", input="hi")
    assert failed.value.status_code == 502


async def test_the_server_still_counts_tokens_it_was_not_given(
        native_api: openai.AsyncOpenAI, native_server: NativeServer,
        client: MakeClient) -> None:
    native_server.usage = False
    response = await native_api.responses.create(model="omni", input="hi " * 40)
    assert response.usage is not None
    assert response.usage.input_tokens > 20 and response.usage.output_tokens > 0
    assert response.usage.total_tokens == (response.usage.input_tokens
                                           + response.usage.output_tokens)
    assert response.usage.model_extra == {"jackfield_estimated": True}
