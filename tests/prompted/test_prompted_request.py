"""What a prompted call sends (the tools or schema in the prompt, the tool history as plain
turns, no native fields), when prompting is on (per call, per registry, per model; off by
default), and a tool-result round trip."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from scripted import CITY, CITY_FORMAT, TOOLS, ScriptedServer, ask

from jackfield import CapabilityError, Registry, UnparsableReplyError

CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'


async def test_the_prompt_describes_the_tools_and_the_format(
        registry: Registry, scripted: ScriptedServer) -> None:
    scripted.queue("Sunny.")
    await registry.complete("scripted/model", "Weather in Paris?", tools=TOOLS)
    [body] = scripted.seen
    assert body["params"] == {}  # nothing native: the model has no tools field
    system = scripted.system
    for tool in TOOLS:
        function = tool["function"]
        assert f"### {function['name']}\n{function['description']}" in system
        assert json.dumps(function["parameters"]) in system
    assert '<tool_call>\n{"name": <tool name>, "arguments": <arguments as a JSON object>}\n' \
           '</tool_call>' in system
    assert "answer in plain text" in system
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert body["messages"][1] == {"role": "user", "content": "Weather in Paris?"}


@pytest.mark.parametrize("options, says", [
    ({"tool_choice": "required"}, "You must call at least one tool in this reply."),
    ({"tool_choice": {"type": "function", "function": {"name": "get_time"}}},
     "You must call the tool get_time in this reply."),
    ({"parallel_tool_calls": False}, "Call at most one tool in this reply."),
    ({}, "you may call several tools in one reply"),
], ids=["required", "named", "one-at-a-time", "auto"])
async def test_tool_choice_is_asked_in_the_prompt(registry: Registry, scripted: ScriptedServer,
                                                  options: dict[str, object],
                                                  says: str) -> None:
    scripted.queue(CALL.replace("get_weather", "get_time").replace('"city": "Paris"',
                                                                   '"zone": "UTC"'))
    await registry.complete("scripted/model", "hi", tools=TOOLS, **options)
    assert says in scripted.system
    assert scripted.seen[-1]["params"] == {}


async def test_the_callers_system_message_is_kept_first(registry: Registry,
                                                        scripted: ScriptedServer) -> None:
    scripted.queue("Sunny.")
    await registry.complete("scripted/model", [{"role": "system", "content": "Be brief."},
                                               {"role": "user", "content": "Weather?"}],
                            tools=TOOLS)
    messages = scripted.seen[-1]["messages"]
    assert [m["role"] for m in messages] == ["system", "user"]
    assert messages[0]["content"].startswith("Be brief.\n\nYou can call the following tools")


async def test_the_prompt_holds_the_json_schema(registry: Registry,
                                                scripted: ScriptedServer) -> None:
    scripted.queue(json.dumps({"city": "Paris", "temperature": 20}))
    await registry.complete("scripted/model", "Report", response_format=CITY_FORMAT)
    assert scripted.seen[-1]["params"] == {}
    assert 'the JSON schema "city_report" (a city\'s weather)' in scripted.system
    assert f"Schema: {json.dumps(CITY)}" in scripted.system
    scripted.queue('{"a": 1}')
    await registry.complete("scripted/model", "Report", response_format={"type": "json_object"})
    assert "a single JSON object and nothing else" in scripted.system


HISTORY = [
    {"role": "user", "content": "Weather and time in Paris?"},
    {"role": "assistant", "content": "Checking.", "tool_calls": [
        {"id": "call_w", "type": "function",
         "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
        {"id": "call_t", "type": "function",
         "function": {"name": "get_time", "arguments": '{"zone": "Europe/Paris"}'}}]},
    {"role": "tool", "tool_call_id": "call_w", "content": '{"temperature": 21}'},
    {"role": "tool", "tool_call_id": "call_t", "content": "14:05"},
]


async def test_the_tool_history_is_rewritten_into_plain_turns(
        registry: Registry, scripted: ScriptedServer, stream: bool) -> None:
    scripted.queue("It is 21 degrees and 14:05 in Paris.")
    completion = await ask(registry, stream, HISTORY, tools=TOOLS)
    assert completion.text == "It is 21 degrees and 14:05 in Paris."
    assert completion.tool_calls == ()
    assert completion.finish_reason == "stop"
    messages = scripted.seen[-1]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert all(set(m) == {"role", "content"} for m in messages)  # no tool fields left
    assert messages[2]["content"] == (
        'Checking.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n'
        '</tool_call>\n<tool_call>\n{"name": "get_time", "arguments": {"zone": '
        '"Europe/Paris"}}\n</tool_call>')
    assert messages[3]["content"] == (
        '<tool_result call_id="call_w" name="get_weather">\n{"temperature": 21}\n'
        '</tool_result>\n<tool_result call_id="call_t" name="get_time">\n14:05\n'
        "</tool_result>")


async def test_a_tool_result_round_trip(registry: Registry, scripted: ScriptedServer,
                                        stream: bool) -> None:
    messages: list[dict[str, object]] = [{"role": "user", "content": "Weather in Paris?"}]
    scripted.queue(CALL)
    first = await ask(registry, stream, messages, tools=TOOLS)
    [call] = first.tool_calls
    messages += [{"role": "assistant", "content": None, "tool_calls": [call.to_dict()]},
                 {"role": "tool", "tool_call_id": call.id, "content": "21 °C, clear"}]
    scripted.queue("It is 21 °C and clear in Paris.")
    final = await ask(registry, stream, messages, tools=TOOLS)
    assert final.text == "It is 21 °C and clear in Paris."
    assert final.emulated == ("tools",)
    sent = scripted.seen[-1]["messages"]
    assert sent[2] == {"role": "assistant", "content": CALL}
    assert sent[3] == {"role": "user", "content": f'<tool_result call_id="{call.id}" '
                                                  'name="get_weather">\n21 °C, clear\n'
                                                  "</tool_result>"}


async def test_prompting_is_off_by_default(make_scripted: Callable[..., Registry],
                                           scripted: ScriptedServer) -> None:
    registry = make_scripted()
    with pytest.raises(CapabilityError) as caught:
        await registry.complete("scripted/model", "hi", tools=TOOLS)
    assert "prompted=" in str(caught.value)
    assert caught.value.capability == "tools"
    with pytest.raises(CapabilityError) as caught:
        await registry.complete("scripted/model", "hi", response_format=CITY_FORMAT)
    assert "prompted=" in str(caught.value)
    assert scripted.seen == []  # refused before any request


async def test_prompted_per_call(make_scripted: Callable[..., Registry],
                                 scripted: ScriptedServer) -> None:
    registry = make_scripted()
    scripted.queue(CALL)
    completion = await registry.complete("scripted/model", "hi", tools=TOOLS, prompted=True)
    assert [call.name for call in completion.tool_calls] == ["get_weather"]
    with pytest.raises(CapabilityError):  # prompted tools do not prompt a schema
        await registry.complete("scripted/model", "hi", response_format=CITY_FORMAT,
                                prompted={"tools"})
    with pytest.raises(CapabilityError):  # the call's own False wins over the registry's
        await make_scripted(prompted=True).complete("scripted/model", "hi", tools=TOOLS,
                                                    prompted=False)
    assert len(scripted.seen) == 1


async def test_prompted_per_model(make_scripted: Callable[..., Registry],
                                  scripted: ScriptedServer) -> None:
    registry = make_scripted(prompted={"scripted/model": True})
    scripted.queue(CALL)
    completion = await registry.complete("scripted/model", "hi", tools=TOOLS)
    assert completion.emulated == ("tools",)
    with pytest.raises(CapabilityError):
        await registry.complete("scripted/other", "hi", tools=TOOLS)
    registry = make_scripted(prompted={"other": {"json"}})
    scripted.queue('{"city": "Paris", "temperature": 3}')
    completion = await registry.complete("scripted/other", "hi", response_format=CITY_FORMAT)
    assert completion.emulated == ("json",)
    assert len(scripted.seen) == 2


async def test_tool_choice_none_with_a_tool_history(registry: Registry,
                                                    scripted: ScriptedServer) -> None:
    # The history needs the format, but no tool may be called: a call is refused.
    scripted.queue("It is 21 degrees and 14:05.")
    completion = await registry.complete("scripted/model", HISTORY, tools=TOOLS,
                                         tool_choice="none")
    assert completion.text == "It is 21 degrees and 14:05."
    assert "No tools can be called in this reply" in scripted.system
    assert "### get_weather" not in scripted.system
    scripted.queue(CALL)
    with pytest.raises(UnparsableReplyError, match="no tool may be called"):
        await registry.complete("scripted/model", HISTORY, tools=TOOLS, tool_choice="none")


async def test_prompted_tools_beside_a_native_json_mode(registry: Registry,
                                                        scripted: ScriptedServer) -> None:
    # JSON mode allows only an object, so the model is told to write its calls as one.
    scripted.queue('{"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}')
    completion = await registry.complete("scripted/jsonic", "hi", tools=TOOLS,
                                         response_format={"type": "json_object"})
    assert [call.name for call in completion.tool_calls] == ["get_weather"]
    assert completion.emulated == ("tools",)
    assert scripted.seen[-1]["params"] == {"response_format": {"type": "json_object"}}
    assert 'whose only key "tool_calls" holds a list of calls' in scripted.system
    scripted.queue('{"answer": "sunny"}')
    completion = await registry.complete("scripted/jsonic", "hi", tools=TOOLS,
                                         response_format={"type": "json_object"})
    assert completion.text == '{"answer": "sunny"}'
    # A native schema leaves no room for a call: said in a warning.
    scripted.queue(json.dumps({"city": "Paris", "temperature": 3}))
    completion = await registry.complete("scripted/jsonic", "hi", tools=TOOLS,
                                         response_format=CITY_FORMAT)
    assert completion.emulated == ("tools",)
    assert [warning.param for warning in completion.warnings] == ["tools"]
    assert "cannot call a tool" in str(completion.warnings[0])
