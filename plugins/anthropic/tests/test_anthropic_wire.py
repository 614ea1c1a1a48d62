"""The request the build hook makes, with no server: turns and their merging, tool results,
names, images, tools and tool_choice, thinking, JSON, and what it refuses before any I/O."""

from __future__ import annotations

from typing import Any

import pytest
from anthropic_helpers import HAIKU, KEY, SONNET, SPEC

import jackfield_anthropic
from jackfield import AuthenticationError, InvalidRequestError
from jackfield.provider import HttpRequest, ModelSpec
from jackfield.testing import make_config, make_request
from jackfield_anthropic.spec import capabilities_for

MODELS = SPEC.with_models([ModelSpec(m, capabilities=capabilities_for(m)) for m in
                           (SONNET, HAIKU)])
CONFIG = make_config(MODELS, base_url="http://127.0.0.1:9", api_key=KEY)
TOOL = {"type": "function", "function": {"name": "clock", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}}}}
CALLS = [{"id": "toolu_a", "type": "function", "function": {"name": "clock",
                                                          "arguments": '{"city": "Oslo"}'}},
         {"id": "toolu_b", "type": "function", "function": {"name": "clock",
                                                          "arguments": "{}"}}]


def build(messages: Any = "hi", model: str = SONNET, config: Any = CONFIG,
          **params: Any) -> HttpRequest:
    request = make_request(MODELS, model, messages, **params)
    return jackfield_anthropic.jackfield_build_request(request=request, config=config)


def body(messages: Any = "hi", **params: Any) -> dict[str, Any]:
    built = build(messages, **params)
    assert isinstance(built.json, dict)
    return built.json


def test_the_request_line_and_headers() -> None:
    built = build(stream=True)
    assert (built.method, built.url, built.stream) == (
        "POST", "http://127.0.0.1:9/v1/messages", True)
    assert built.headers["x-api-key"] == KEY
    assert built.headers["anthropic-version"] == "2023-06-01"
    assert built.headers["accept"] == "text/event-stream"
    assert body(stream=True) == {"model": SONNET, "stream": True, "max_tokens": 4096,
                                 "messages": [{"role": "user", "content": [
                                     {"type": "text", "text": "hi"}]}]}


def test_tool_results_share_one_user_turn_ahead_of_text() -> None:
    messages = [
        {"role": "user", "content": "time in Oslo and here?"},
        {"role": "assistant", "content": "Checking both.", "tool_calls": CALLS},
        {"role": "tool", "tool_call_id": "toolu_a", "content": "09:00"},
        {"role": "tool", "tool_call_id": "toolu_b", "content": "10:00"},
        {"role": "user", "content": "and?", "name": "Ann"},
        {"role": "user", "content": "well?"},
    ]
    turns = body(messages, tools=[TOOL])["messages"]
    assert [turn["role"] for turn in turns] == ["user", "assistant", "user"]
    assert turns[1]["content"] == [
        {"type": "text", "text": "Checking both."},
        {"type": "tool_use", "id": "toolu_a", "name": "clock", "input": {"city": "Oslo"}},
        {"type": "tool_use", "id": "toolu_b", "name": "clock", "input": {}}]
    assert turns[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "toolu_a", "content": "09:00"},
        {"type": "tool_result", "tool_use_id": "toolu_b", "content": "10:00"},
        {"type": "text", "text": "Ann: and?"}, {"type": "text", "text": "well?"}]


def test_arguments_that_are_no_object_are_refused() -> None:
    bad = [{**CALLS[0], "function": {"name": "clock", "arguments": "[1, 2]"}}]
    with pytest.raises(InvalidRequestError) as raised:
        body([{"role": "user", "content": "x"},
              {"role": "assistant", "content": None, "tool_calls": bad},
              {"role": "tool", "tool_call_id": "toolu_a", "content": "1"}], tools=[TOOL])
    assert raised.value.param == "messages[1].tool_calls[0].function.arguments"


def test_a_system_prompt_alone_is_refused() -> None:
    with pytest.raises(InvalidRequestError, match="user message"):
        body([{"role": "system", "content": "You are terse."}])


@pytest.mark.parametrize(("params", "param", "says"), [
    ({"temperature": 1.5}, "temperature", "0 to 1"),
    ({"stop": ["  "]}, "stop", "whitespace"),
    ({"reasoning_effort": "low", "temperature": 0.2}, "temperature", "thinking"),
    ({"reasoning_effort": "low", "top_k": 3}, "top_k", "thinking"),
    ({"reasoning_effort": "low", "top_p": 0.5}, "top_p", "0.95"),
    ({"reasoning_effort": "high", "max_tokens": 16384}, "max_tokens", "budget"),
    ({"thinking_budget": 100}, "thinking_budget", "1024"),
    ({"reasoning_effort": "low", "tools": [TOOL], "tool_choice": "required"},
     "reasoning_effort", "forced tool"),
    ({"response_format": {"type": "json_object"}, "tools": [TOOL]}, "response_format",
     "tools"),
    ({"response_format": {"type": "json_schema", "json_schema": {
        "name": "n", "schema": {"type": "array", "items": {"type": "string"}}}}},
     "response_format", "object"),
])
def test_what_is_refused_before_sending(params: dict[str, Any], param: str, says: str) -> None:
    with pytest.raises(InvalidRequestError, match=says) as raised:
        body("json please", **params)
    assert raised.value.param == param


def test_thinking_budgets() -> None:
    assert body(reasoning_effort="minimal")["thinking"]["budget_tokens"] == 1024
    sent = body(reasoning_effort="medium", max_tokens=9000)
    assert (sent["thinking"]["budget_tokens"], sent["max_tokens"]) == (8192, 9000)
    assert "thinking" not in body(reasoning_effort="none")
    assert body(thinking_budget=3000)["thinking"] == {"type": "enabled", "budget_tokens": 3000}


def test_a_turn_that_answers_tools_goes_without_thinking() -> None:
    messages = [{"role": "user", "content": "x"},
                {"role": "assistant", "content": None, "tool_calls": CALLS[:1]},
                {"role": "tool", "tool_call_id": "toolu_a", "content": "1"}]
    built = build(messages, tools=[TOOL], reasoning_effort="low")
    assert isinstance(built.json, dict)
    assert "thinking" not in built.json and built.json["max_tokens"] == 4096
    # Said with the answer (HttpRequest.warnings), not silently dropped.
    [warning] = built.warnings
    assert warning.param == "reasoning_effort" and "tool results" in warning.message
    first = build(messages[:1], tools=[TOOL], reasoning_effort="low")
    assert first.json["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert first.warnings == ()


def test_json_object_is_a_forced_tool_taking_any_object() -> None:
    sent = body("reply in json", response_format={"type": "json_object"})
    assert sent["tools"] == [{"name": "json_response", "input_schema": {"type": "object"},
                              "description": "Give the reply as this tool's input."}]
    assert sent["tool_choice"] == {"type": "tool", "name": "json_response"}


def test_without_a_key_anthropic_itself_is_refused_before_sending() -> None:
    config = make_config(MODELS)  # the default base URL, api.anthropic.com
    with pytest.raises(AuthenticationError, match="ANTHROPIC_API_KEY"):
        build(config=config)
    other = make_config(MODELS, base_url="http://127.0.0.1:9")  # a compatible server
    assert "x-api-key" not in build(config=other).headers
