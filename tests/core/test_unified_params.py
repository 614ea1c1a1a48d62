"""complete()'s own parameters (OpenAI's names): each is checked before any I/O with an error
that names it in `param`, and what passes reaches a model that honours it in OpenAI's wire
form."""

from __future__ import annotations

from typing import Any

import pytest

from jackfield import InvalidRequestError, Registry, ResponseFormat, Tool, ToolChoice
from nativeprovider import NativeServer

WEATHER: dict[str, Any] = {"type": "function", "function": {
    "name": "get_weather", "description": "Today's weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]}}}
SCHEMA = {"type": "json_schema", "json_schema": {
    "name": "answer", "schema": {"type": "object", "properties": {"n": {"type": "integer"}}},
    "strict": True}}

# (keyword arguments, the param the error names, a fragment of its message)
REFUSED: list[tuple[dict[str, Any], str, str]] = [
    ({"temperature": 2.5}, "temperature", "from 0 to 2"),
    ({"temperature": "hot"}, "temperature", "must be a number"),
    ({"temperature": True}, "temperature", "must be a number"),
    ({"temperature": float("nan")}, "temperature", "must be a number"),
    ({"top_p": 1.5}, "top_p", "from 0 to 1"),
    ({"presence_penalty": -3}, "presence_penalty", "from -2 to 2"),
    ({"frequency_penalty": float("inf")}, "frequency_penalty", "from -2 to 2"),
    ({"max_tokens": 0}, "max_tokens", "whole number from 1"),
    ({"max_tokens": 2.5}, "max_tokens", "whole number"),
    ({"max_completion_tokens": -1}, "max_completion_tokens", "whole number from 1"),
    ({"max_completion_tokens": 5, "max_tokens": 5}, "max_completion_tokens", "send one"),
    ({"stop": ""}, "stop", "non-empty string"),
    ({"stop": ["a", 3]}, "stop", "non-empty string"),
    ({"stop": ["a", "b", "c", "d", "e"]}, "stop", "at most 4"),
    ({"stop": "x" * 300}, "stop", "at most 256 characters"),
    ({"stop": "\ud800"}, "stop", "unpaired surrogate"),
    ({"seed": 2**64}, "seed", "whole number"),
    ({"seed": "1"}, "seed", "whole number"),
    ({"n": 0}, "n", "from 1 to 10"),
    ({"n": 11}, "n", "from 1 to 10"),
    ({"tools": {"get_weather": {}}}, "tools", "list of tools"),
    ({"tools": [{"type": "retrieval"}]}, "tools[0]", "only function tools"),
    ({"tools": [{**WEATHER, "extra": 1}]}, "tools[0].extra", "not a field of a tool"),
    ({"tools": [{"type": "function", "function": {"name": "a b"}}]},
     "tools[0].function.name", "letters, digits"),
    ({"tools": [{"type": "function", "function": {"name": "ok\n"}}]},
     "tools[0].function.name", "letters, digits"),
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {
        "type": "nonsense"}}}]}, "tools[0].function.parameters", "not a valid JSON schema"),
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": []}}]},
     "tools[0].function.parameters", "JSON schema object"),
    ({"tools": [{"type": "function", "function": {"name": "f", "strict": "yes"}}]},
     "tools[0].function.strict", "true or false"),
    ({"tools": [WEATHER, WEATHER]}, "tools", "more than once"),
    ({"tools": [Tool("bad name")]}, "tools[0].function.name", "letters, digits"),
    ({"tools": [WEATHER], "tool_choice": "always"}, "tool_choice", "must be 'auto'"),
    ({"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "x"}}},
     "tool_choice", "not one of the tools"),
    ({"tool_choice": "required"}, "tool_choice", "needs tools"),
    ({"tool_choice": {"type": "function", "function": {"name": "x"}}}, "tool_choice",
     "not one of the tools"),
    ({"tools": [WEATHER], "parallel_tool_calls": "yes"}, "parallel_tool_calls",
     "true or false"),
    ({"response_format": {"type": "xml"}}, "response_format", "must be {'type': 'text'}"),
    ({"response_format": "json"}, "response_format", "must be {'type': 'text'}"),
    ({"response_format": {"type": "json_schema"}}, "response_format.json_schema",
     "must be {'name'"),
    ({"response_format": {"type": "json_schema", "json_schema": {"name": "a", "oops": 1}}},
     "response_format.json_schema.oops", "not a field"),
    ({"response_format": {"type": "json_schema", "json_schema": {
        "name": "a", "schema": {"type": 3}}}}, "response_format.json_schema.schema",
     "not a valid JSON schema"),
    ({"response_format": ResponseFormat("json_schema", "a", {"type": 3})},
     "response_format.json_schema.schema", "not a valid JSON schema"),
    ({"reasoning_effort": "extreme"}, "reasoning_effort", "must be one of"),
    ({"logprobs": "yes"}, "logprobs", "true or false"),
    ({"top_logprobs": 3}, "top_logprobs", "needs logprobs"),
    ({"logprobs": True, "top_logprobs": 21}, "top_logprobs", "from 0 to 20"),
    ({"prompted": "everything"}, "prompted", "some of 'tools' and 'json'"),
    ({"strict": True}, "strict", "Registry\\(strict=True\\)"),
    ({"top_k": 3}, "top_k", "does not accept the option"),
    ({"functions": [WEATHER]}, "functions", "does not accept the option"),
    ({"unknown_flag": None}, "unknown_flag", "does not accept the option"),
]


@pytest.mark.parametrize(("options", "param", "fragment"), REFUSED,
                         ids=[next(iter(case[0])) + f"-{i}" for i, case in enumerate(REFUSED)])
async def test_each_parameter_is_checked_before_any_io(
        native_registry: Registry, native_server: NativeServer, options: dict[str, Any],
        param: str, fragment: str) -> None:
    with pytest.raises(InvalidRequestError, match=fragment) as caught:
        await native_registry.complete("omni", "hi", **options)
    assert caught.value.param == param
    assert native_server.seen == []


async def test_what_omni_honours_is_sent_in_openai_wire_form(
        native_registry: Registry, native_server: NativeServer) -> None:
    reply = await native_registry.complete(
        "omni", "hi", temperature=0, top_p=1, max_completion_tokens=50, stop="END",
        seed=-7, presence_penalty=0.5, frequency_penalty=-0.5, tools=[WEATHER],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        parallel_tool_calls=False)
    body = native_server.seen[-1]
    assert {key: body[key] for key in body if key not in ("model", "stream", "messages")} == {
        "temperature": 0.0, "top_p": 1.0, "max_tokens": 50, "stop": ["END"], "seed": -7,
        "presence_penalty": 0.5, "frequency_penalty": -0.5, "tools": [WEATHER],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "parallel_tool_calls": False}
    assert reply.warnings == () and reply.emulated == ()
    assert reply.tool_calls[0].parsed_arguments() == {"city": "sunny"}


async def test_a_json_schema_reaches_the_model_and_its_answer_comes_back(
        native_registry: Registry, native_server: NativeServer) -> None:
    reply = await native_registry.complete("omni", "count", response_format=SCHEMA)
    assert native_server.seen[-1]["response_format"] == SCHEMA
    assert reply.text == '{"n": 7}'


async def test_null_means_not_set_for_every_parameter(
        native_registry: Registry, native_server: NativeServer) -> None:
    # JSON clients send explicit nulls for what they leave unset.
    nulls: dict[str, Any] = dict.fromkeys((
        "temperature", "top_p", "max_tokens", "stop", "seed", "tools", "tool_choice",
        "response_format", "n", "logprobs", "user", "metadata", "reasoning_effort"))
    reply = await native_registry.complete("omni", "hi", **nulls)
    assert set(native_server.seen[-1]) == {"model", "stream", "messages"}
    assert reply.warnings == ()


async def test_the_public_types_are_accepted_in_place_of_dicts(
        native_registry: Registry, native_server: NativeServer) -> None:
    tool = Tool("get_weather", "Today's weather", WEATHER["function"]["parameters"])
    await native_registry.complete("omni", "hi", tools=[tool],
                                   tool_choice=ToolChoice("function", "get_weather"))
    body = native_server.seen[-1]
    assert body["tools"] == [WEATHER]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}


async def test_duplicate_stop_strings_are_sent_once_in_order(
        native_registry: Registry, native_server: NativeServer) -> None:
    await native_registry.complete("omni", "hi", stop=["b", "a", "b"])
    assert native_server.seen[-1]["stop"] == ["b", "a"]


def test_a_provider_cannot_declare_one_of_complete_s_own_parameters() -> None:
    from jackfield.provider import Option, ProviderSpec

    for name in ("temperature", "max_completion_tokens", "seed"):
        with pytest.raises(ValueError, match="complete\\(\\)'s own parameters"):
            ProviderSpec("p", "http://127.0.0.1:9", models=(), options={name: Option(int)})
