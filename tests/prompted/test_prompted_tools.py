"""Prompted tools through Registry.complete: replies a real model might write, whole and
streamed, become real tool calls, stay text, or raise UnparsableReplyError."""

from __future__ import annotations

import json
import re

import pytest
from scripted import TOOLS, ScriptedServer, ask, unparsable

from jackfield import (
    Completion,
    JackfieldError,
    PartialResponseError,
    Registry,
    UnparsableReplyError,
)

CALL = '{"name": "get_weather", "arguments": {"city": "Paris"}}'
TIME_CALL = '{"name": "get_time", "arguments": {"zone": "Europe/Paris"}}'


def tagged(body: str) -> str:
    return f"<tool_call>\n{body}\n</tool_call>"


def weather_call(completion: Completion) -> None:
    """Assert completion is exactly one get_weather call for Paris."""
    assert completion.finish_reason == "tool_calls"
    [call] = completion.tool_calls
    assert re.fullmatch(r"call_[0-9a-f]{24}", call.id)
    assert call.name == "get_weather"
    assert call.parsed_arguments() == {"city": "Paris"}
    assert completion.emulated == ("tools",)


async def failure(registry: Registry, scripted: ScriptedServer, stream: bool, reply: str,
                  finish: str = "stop", **options: object) -> JackfieldError:
    scripted.queue(reply, finish)
    with pytest.raises(JackfieldError) as caught:
        await ask(registry, stream, tools=options.pop("tools", TOOLS), **options)
    error = unparsable(caught.value)
    assert error.reply == reply  # the model's text is kept for debugging, not returned
    return error


@pytest.mark.parametrize("reply", [
    tagged(CALL),
    f"```json\n{CALL}\n```",
    f"```xml\n{tagged(CALL)}\n```",
    f"<tool_call>\n```json\n{CALL}\n```\n</tool_call>",
    f"<tool_call>{CALL}",  # the closing tag forgotten
    CALL,
    '{"tool_calls": [{"type": "function", "function": {"name": "get_weather", '
    '"arguments": "{\\"city\\": \\"Paris\\"}"}}]}',  # OpenAI's wire shape, arguments as text
    '<tool_call>\n{"name": "get_weather", "parameters": {"city": "Paris"}}\n</tool_call>',
], ids=["exact", "fenced", "fenced-tag", "tag-around-fence", "unclosed", "bare", "openai",
        "llama-parameters"])
async def test_a_call_in_any_common_shape_is_a_tool_call(
        registry: Registry, scripted: ScriptedServer, stream: bool, reply: str) -> None:
    scripted.queue(reply)
    completion = await ask(registry, stream, tools=TOOLS)
    weather_call(completion)
    assert completion.text == ""


async def test_prose_around_the_call_stays_text(registry: Registry, scripted: ScriptedServer,
                                                stream: bool) -> None:
    scripted.queue(f"I'll look that up for you.\n\n{tagged(CALL)}\n\nI will report back "
                   "once I have the result.")
    completion = await ask(registry, stream, tools=TOOLS)
    weather_call(completion)
    assert completion.text == ("I'll look that up for you.\n\nI will report back once I have "
                               "the result.")


async def test_a_fence_in_the_middle_of_a_line(registry: Registry, scripted: ScriptedServer,
                                               stream: bool) -> None:
    scripted.queue(f"Sure! ```json\n{CALL}\n```")
    completion = await ask(registry, stream, tools=TOOLS)
    weather_call(completion)
    assert completion.text == "Sure!"


@pytest.mark.parametrize("reply", [
    f"{tagged(CALL)}\n{tagged(TIME_CALL)}",
    tagged(f"[{CALL}, {TIME_CALL}]"),
    f"Checking both.\n```json\n[{CALL},\n {TIME_CALL}]\n```",
], ids=["two-blocks", "list-in-one-block", "fenced-list"])
async def test_several_calls_keep_their_order(registry: Registry, scripted: ScriptedServer,
                                              stream: bool, reply: str) -> None:
    scripted.queue(reply)
    completion = await ask(registry, stream, tools=TOOLS)
    assert [(call.name, call.parsed_arguments()) for call in completion.tool_calls] == [
        ("get_weather", {"city": "Paris"}), ("get_time", {"zone": "Europe/Paris"})]
    assert len({call.id for call in completion.tool_calls}) == 2
    assert completion.finish_reason == "tool_calls"


async def test_prose_only_is_a_normal_answer(registry: Registry, scripted: ScriptedServer,
                                             stream: bool) -> None:
    reply = ("Paris is mild in spring; write {city} in a template, and note 3 < 4. "
             "An example config:\n```json\n{\"city\": \"Paris\", \"unit\": \"celsius\"}\n```\n"
             "A link: [docs](https://example.org) and `code`.")
    scripted.queue(reply)
    completion = await ask(registry, stream, tools=TOOLS)
    assert completion.text == reply
    assert completion.tool_calls == ()
    assert completion.finish_reason == "stop"
    assert completion.emulated == ("tools",)


async def test_the_quoted_format_template_is_not_a_call(
        registry: Registry, scripted: ScriptedServer, stream: bool) -> None:
    # A model (or an echoing service) repeating its instructions calls nothing.
    reply = ('To call a tool, write <tool_call>\n{"name": <tool name>, "arguments": '
             '<arguments as a JSON object>}\n</tool_call> as I was told.')
    scripted.queue(reply)
    completion = await ask(registry, stream, tools=TOOLS)
    assert completion.text == reply
    assert completion.tool_calls == ()


async def test_the_tag_named_in_prose_is_not_a_call(registry: Registry,
                                                    scripted: ScriptedServer,
                                                    stream: bool) -> None:
    reply = "No <tool_call> is needed for this: it is sunny in Paris."
    scripted.queue(reply)
    completion = await ask(registry, stream, tools=TOOLS)
    assert completion.text == reply
    assert completion.tool_calls == ()


async def test_a_complete_call_cut_off_afterwards_keeps_length(
        registry: Registry, scripted: ScriptedServer, stream: bool) -> None:
    scripted.queue(f"{tagged(CALL)}\nI will", finish="length")
    completion = await ask(registry, stream, tools=TOOLS)
    assert [call.name for call in completion.tool_calls] == ["get_weather"]
    assert completion.finish_reason == "length"
    assert completion.text == "I will"


async def test_a_truncated_call_is_an_error(registry: Registry, scripted: ScriptedServer,
                                            stream: bool) -> None:
    error = await failure(registry, scripted, stream,
                          '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Pa',
                          finish="length")
    assert "ends inside a tool call" in str(error)
    assert "raise max_tokens" in str(error)


@pytest.mark.parametrize("reply", [
    '```json\n{"name": "get_weather", "argu',
    '{"na',
    "<tool_ca",
    "<tool_call>\n",
], ids=["fenced", "first-key", "tag", "empty-tag"])
async def test_a_reply_cut_off_anywhere_in_a_call_is_an_error(
        registry: Registry, scripted: ScriptedServer, stream: bool, reply: str) -> None:
    error = await failure(registry, scripted, stream, reply)
    assert "cut off" in str(error)


@pytest.mark.parametrize("reply, says", [
    (tagged('{"name": "get_weather", "arguments": {city: "Paris"}}'), "not valid JSON"),
    (tagged('{"name": "get_weather", "arguments": {"city": "Paris"},}'), "not valid JSON"),
    (tagged('get_weather(city="Paris")'), "must hold"),
    (tagged('{"tool": "get_weather"}'), "must hold"),
    (tagged('{"name": "get_weather", "arguments": "city=Paris"}'), "not valid JSON"),
    (tagged('{"name": "get_time", "arguments": {"zone": "UTC", "offset": NaN}}'),
     "NaN is not JSON"),
], ids=["bare-key", "trailing-comma", "python-call", "no-name", "arguments-text", "nan"])
async def test_a_malformed_call_is_an_error(registry: Registry, scripted: ScriptedServer,
                                            stream: bool, reply: str, says: str) -> None:
    error = await failure(registry, scripted, stream, reply)
    assert says in str(error)


async def test_an_unknown_tool_is_an_error(registry: Registry, scripted: ScriptedServer,
                                           stream: bool) -> None:
    error = await failure(registry, scripted, stream,
                          tagged('{"name": "get_stock", "arguments": {"symbol": "ACME"}}'))
    assert "'get_stock', which is not one of the tools (get_weather, get_time)" in str(error)


@pytest.mark.parametrize("arguments, says", [
    ('{"city": 42}', "42 is not of type 'string' (at city)"),
    ('{"unit": "celsius"}', "'city' is a required property"),
    ('{"city": "Paris", "unit": "kelvin"}', "'kelvin' is not one of"),
    ('{"city": "Paris", "country": "FR"}', "Additional properties are not allowed"),
    ('["Paris"]', "must be a JSON object, got a list"),
], ids=["wrong-type", "missing", "enum", "extra", "not-an-object"])
async def test_arguments_that_do_not_match_the_schema_are_an_error(
        registry: Registry, scripted: ScriptedServer, stream: bool, arguments: str,
        says: str) -> None:
    error = await failure(registry, scripted, stream,
                          tagged(f'{{"name": "get_weather", "arguments": {arguments}}}'))
    assert says in str(error)


async def test_no_call_when_one_is_required_is_an_error(
        registry: Registry, scripted: ScriptedServer, stream: bool) -> None:
    error = await failure(registry, scripted, stream, "It is probably sunny.",
                          tool_choice="required")
    assert "tool_choice is 'required'" in str(error)


async def test_a_named_tool_choice_must_be_the_call(registry: Registry,
                                                    scripted: ScriptedServer,
                                                    stream: bool) -> None:
    named = {"type": "function", "function": {"name": "get_time"}}
    error = await failure(registry, scripted, stream, tagged(CALL), tool_choice=named)
    assert "tool_choice asks for get_time" in str(error)
    error = await failure(registry, scripted, stream, "Noon.", tool_choice=named)
    assert "does not call get_time" in str(error)
    scripted.queue(tagged(TIME_CALL))
    completion = await ask(registry, stream, tools=TOOLS, tool_choice=named)
    assert [call.name for call in completion.tool_calls] == ["get_time"]


async def test_parallel_tool_calls_false_refuses_a_second_call(
        registry: Registry, scripted: ScriptedServer, stream: bool) -> None:
    error = await failure(registry, scripted, stream, f"{tagged(CALL)}\n{tagged(TIME_CALL)}",
                          parallel_tool_calls=False)
    assert "calls 2 tools, but parallel_tool_calls is false" in str(error)
    scripted.queue(tagged(CALL))
    weather_call(await ask(registry, stream, tools=TOOLS, parallel_tool_calls=False))


async def test_prose_then_a_broken_call_is_never_success(
        registry: Registry, scripted: ScriptedServer, stream: bool) -> None:
    reply = f"Let me check the weather for you.\n{tagged(CALL[:-3])}"
    scripted.queue(reply)
    with pytest.raises(JackfieldError) as caught:
        await ask(registry, stream, tools=TOOLS)
    # Streamed, the prose had reached the caller: the error says the reply broke off.
    assert isinstance(caught.value, PartialResponseError if stream else UnparsableReplyError)
    assert "not valid JSON" in str(unparsable(caught.value))


async def test_the_arguments_are_handed_on_as_normalised_json(registry: Registry,
                                                      scripted: ScriptedServer,
                                                      stream: bool) -> None:
    scripted.queue(tagged('{"name": "get_weather",\n  "arguments": {\n    "city": "Zürich",'
                          '\n    "unit": "celsius"\n  }\n}'))
    completion = await ask(registry, stream, tools=TOOLS)
    [call] = completion.tool_calls
    assert call.arguments == json.dumps({"city": "Zürich", "unit": "celsius"},
                                        ensure_ascii=False)
