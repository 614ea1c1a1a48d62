"""Prompted JSON through Registry.complete: the answer is one JSON value, valid against the
schema (an object for json_object), handed back as clean JSON text, or the call raises."""

from __future__ import annotations

import json

import pytest
from scripted import CITY_FORMAT, TOOLS, ScriptedServer, ask, unparsable

from jackfield import JackfieldError, Registry

REPORT = {"city": "Paris", "temperature": 21.5}
TEXT = json.dumps(REPORT)


async def failure(registry: Registry, scripted: ScriptedServer, stream: bool, reply: str,
                  finish: str = "stop", **options: object) -> str:
    scripted.queue(reply, finish)
    options.setdefault("response_format", CITY_FORMAT)
    with pytest.raises(JackfieldError) as caught:
        await ask(registry, stream, **options)
    error = unparsable(caught.value)
    assert error.reply == reply
    return str(error)


@pytest.mark.parametrize("reply", [
    TEXT,
    f"  \n{json.dumps(REPORT, indent=2)}\n",
    f"```json\n{TEXT}\n```",
    f"Here is the report you asked for:\n\n```json\n{TEXT}\n```\nLet me know if you need more.",
    f"Sure! The report: {TEXT} Hope this helps.",
    'An example would be {"city": "Rome"}; the real one: ' + TEXT,
], ids=["bare", "indented", "fenced", "fenced-in-prose", "inline-in-prose", "example-first"])
async def test_the_json_answer_is_extracted_and_checked(
        registry: Registry, scripted: ScriptedServer, stream: bool, reply: str) -> None:
    scripted.queue(reply)
    completion = await ask(registry, stream, response_format=CITY_FORMAT)
    assert json.loads(completion.text) == REPORT
    assert completion.text.startswith("{") and completion.text.endswith("}")
    assert completion.emulated == ("json",)
    assert completion.finish_reason == "stop"
    assert completion.tool_calls == ()


@pytest.mark.parametrize("reply, says", [
    ('{"city": "Paris", "temperature": "warm"}', "'warm' is not of type 'number' (at temperature)"),
    ('{"city": "Paris"}', "'temperature' is a required property"),
    ('{"city": "Paris", "temperature": 21, "wind": 3}', "Additional properties"),
    ("[1, 2]", "[1, 2] is not of type 'object'"),
], ids=["wrong-type", "missing", "extra", "list"])
async def test_json_that_misses_the_schema_is_an_error(
        registry: Registry, scripted: ScriptedServer, stream: bool, reply: str,
        says: str) -> None:
    message = await failure(registry, scripted, stream, reply)
    assert "does not match the schema 'city_report'" in message
    assert says in message


async def test_truncated_json_is_an_error(registry: Registry, scripted: ScriptedServer,
                                          stream: bool) -> None:
    message = await failure(registry, scripted, stream, '{"city": "Paris", "temperature": 2',
                            finish="length")
    assert "ends before its JSON does" in message
    assert "raise max_tokens" in message


@pytest.mark.parametrize("reply, says", [
    ('{"city": "Paris", "temperature": 21,}', "is not valid"),
    ('{"city": "Paris", "temperature": NaN}', "NaN is not JSON"),
    ("It is 21 degrees in Paris today.", "holds no JSON value"),
    ("", "holds no JSON value"),
], ids=["trailing-comma", "nan", "prose", "empty"])
async def test_a_reply_without_valid_json_is_an_error(
        registry: Registry, scripted: ScriptedServer, stream: bool, reply: str,
        says: str) -> None:
    assert says in await failure(registry, scripted, stream, reply)


async def test_json_object_needs_an_object(registry: Registry, scripted: ScriptedServer,
                                           stream: bool) -> None:
    scripted.queue('```\n{"answer": 42}\n```')
    completion = await ask(registry, stream, response_format={"type": "json_object"})
    assert json.loads(completion.text) == {"answer": 42}
    assert completion.emulated == ("json",)
    message = await failure(registry, scripted, stream, '["answer", 42]',
                            response_format={"type": "json_object"})
    assert "is a list, not an object" in message


async def test_a_streamed_json_answer_arrives_whole(registry: Registry,
                                                    scripted: ScriptedServer) -> None:
    scripted.queue(f"Here you go: {TEXT}")
    async with await registry.complete("scripted/model", "report", stream=True,
                                       response_format=CITY_FORMAT) as chunks:
        texts = [chunk.text async for chunk in chunks if chunk.text]
    assert texts == [TEXT]  # held until it could be checked: no prose, no partial JSON


async def test_tools_and_json_together(registry: Registry, scripted: ScriptedServer,
                                       stream: bool) -> None:
    scripted.queue('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n'
                   '</tool_call>')
    completion = await ask(registry, stream, tools=TOOLS, response_format=CITY_FORMAT)
    assert [call.name for call in completion.tool_calls] == ["get_weather"]
    assert completion.emulated == ("json", "tools")
    scripted.queue(f"```json\n{TEXT}\n```")
    completion = await ask(registry, stream, tools=TOOLS, response_format=CITY_FORMAT)
    assert json.loads(completion.text) == REPORT
    assert completion.tool_calls == ()
    assert "holds no JSON value" in await failure(registry, scripted, stream, "Sunny.",
                                                  tools=TOOLS)
