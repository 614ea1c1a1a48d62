"""Messages in OpenAI's shapes, exactly as clients replay them, through Registry.complete to a
loopback service: tool-call history, tool results, names, image parts and data: URLs.
What has no meaning for a provider is a warning; a key of no known shape is an error."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from jackfield import (
    CapabilityError,
    ImagePart,
    InvalidRequestError,
    Message,
    Registry,
    TextPart,
    ToolCall,
)
from jackfield.testing import png_bytes
from nativeprovider import NativeServer

CALL: dict[str, Any] = {"id": "call_1", "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
WEATHER = [{"type": "function", "function": {
    "name": "get_weather", "parameters": {"type": "object",
                                          "properties": {"city": {"type": "string"}}}}}]
PNG = png_bytes("cat")


def history(assistant: dict[str, Any], tool: dict[str, Any] | None = None) -> list[Any]:
    return [{"role": "user", "content": "weather in Paris?"}, assistant,
            tool or {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}]


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def image_message(url: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [{"type": "text", "text": "what is this?"},
                                         {"type": "image_url", "image_url": {"url": url}}]}]


async def test_the_openai_sdk_replay_of_a_tool_call_goes_through_without_warnings(
        native_registry: Registry, native_server: NativeServer) -> None:
    # What `messages.append(completion.choices[0].message)` sends: every field, most null.
    replayed = {"role": "assistant", "content": None, "refusal": None, "annotations": [],
                "audio": None, "function_call": None, "tool_calls": [CALL]}
    reply = await native_registry.complete("omni", history(replayed), tools=WEATHER)
    assert reply.text == "The tool said sunny"
    assert reply.warnings == ()
    sent = native_server.seen[-1]["messages"]
    assert sent[1] == {"role": "assistant", "content": None, "tool_calls": [CALL]}
    assert sent[2] == {"role": "tool", "content": "sunny", "tool_call_id": "call_1"}


async def test_a_stream_helper_replay_keeps_the_call_and_drops_what_it_derived(
        native_registry: Registry, native_server: NativeServer) -> None:
    # The openai SDK's .stream()/parse() leave index, parsed_arguments and parsed behind.
    call = {**CALL, "index": 0, "function": {**CALL["function"],
                                             "parsed_arguments": {"city": "Paris"}}}
    replayed = {"role": "assistant", "content": "", "parsed": None, "tool_calls": [call]}
    reply = await native_registry.complete("omni", history(replayed))
    assert reply.warnings == ()
    assert native_server.seen[-1]["messages"][1]["tool_calls"] == [CALL]


async def test_replayed_fields_with_content_are_reported_not_sent(
        native_registry: Registry, native_server: NativeServer) -> None:
    replayed = {"role": "assistant", "content": "I cannot.", "refusal": "I cannot.",
                "annotations": [{"type": "url_citation"}]}
    reply = await native_registry.complete("omni", [
        {"role": "user", "content": "do it"}, replayed, {"role": "user", "content": "please"}])
    assert [w.param for w in reply.warnings] == ["messages[1].refusal",
                                                 "messages[1].annotations"]
    assert native_server.seen[-1]["messages"][1] == {"role": "assistant",
                                                     "content": "I cannot."}


async def test_names_are_kept_on_every_role_that_has_one(
        native_registry: Registry, native_server: NativeServer) -> None:
    await native_registry.complete("omni", [
        {"role": "system", "content": "be brief", "name": "rules"},
        {"role": "user", "content": "hi", "name": "ann"},
        {"role": "assistant", "content": None, "tool_calls": [CALL], "name": "bot"},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny", "name": "get_weather"}])
    assert [m.get("name") for m in native_server.seen[-1]["messages"]] == [
        "rules", "ann", "bot", "get_weather"]


async def test_developer_is_system_and_text_parts_are_joined(
        native_registry: Registry, native_server: NativeServer) -> None:
    await native_registry.complete("omni", [
        {"role": "developer", "content": "be brief"},
        {"role": "user", "content": [{"type": "text", "text": "one "},
                                     {"type": "text", "text": "two"}]}])
    assert native_server.seen[-1]["messages"] == [{"role": "system", "content": "be brief"},
                                                  {"role": "user", "content": "one two"}]


@pytest.mark.parametrize(("messages", "param", "fragment"), [
    (history({"role": "assistant", "content": None, "tool_calls": [CALL]},
             {"role": "tool", "tool_call_id": "call_9", "content": "x"}),
     "messages[2].tool_call_id", "answers no tool call"),
    ([{"role": "tool", "tool_call_id": "call_1", "content": "x"}],
     "messages[0].tool_call_id", "answers no tool call"),
    (history({"role": "assistant", "content": None, "tool_calls": [CALL]},
             {"role": "tool", "content": "x"}), "messages[2].tool_call_id", "needs the id"),
    ([{"role": "user", "content": "hi", "images": ["a.png"]}], "messages[0].images",
     "image_url"),
    ([{"role": "user", "content": None}], "messages[0].content", "may be null only"),
    (history({"role": "assistant", "content": None, "tool_calls": [{**CALL, "id": ""}]}),
     "messages[1].tool_calls[0].id", "needs its id"),
    (history({"role": "assistant", "content": None, "tool_calls": [
        {**CALL, "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]}),
     "messages[1].tool_calls[0].function.arguments", "JSON text"),
    (history({"role": "assistant", "content": None, "tool_calls": [{**CALL, "extra": 1}]}),
     "messages[1].tool_calls[0].extra", "not a field"),
    ([{"role": "assistant", "content": [{"type": "image_url", "image_url": {"url": "x"}}]},
      {"role": "user", "content": "hi"}], "messages[0].content[0]", "user messages"),
    ([{"role": "function", "name": "f", "content": "x"}], "messages[0].role", "legacy"),
])
async def test_malformed_history_is_refused_by_name_before_any_io(
        native_registry: Registry, native_server: NativeServer, messages: list[Any],
        param: str, fragment: str) -> None:
    with pytest.raises(InvalidRequestError, match=fragment) as caught:
        await native_registry.complete("omni", messages)
    assert caught.value.param == param
    assert native_server.seen == []


async def test_a_data_url_image_is_decoded_checked_and_sent(
        native_registry: Registry, native_server: NativeServer) -> None:
    reply = await native_registry.complete("omni", image_message(data_url(PNG)))
    assert reply.text == "You said: what is this? [1 images]"
    [_, image] = native_server.seen[-1]["messages"][0]["content"]
    assert image == {"type": "image_url", "image_url": {"url": data_url(PNG)}}


@pytest.mark.parametrize("url", [
    "DATA:image/png;base64," + base64.b64encode(PNG).decode(),  # any case of the scheme
    "data:image/png;charset=binary;base64," + base64.b64encode(PNG).decode(),
    "data:image/png;base64," + base64.encodebytes(PNG).decode(),  # wrapped at 76 columns
])
async def test_data_urls_as_clients_write_them_are_accepted(
        native_registry: Registry, native_server: NativeServer, url: str) -> None:
    await native_registry.complete("omni", image_message(url))
    assert native_server.seen[-1]["messages"][0]["content"][1]["image_url"]["url"] == data_url(
        PNG)


async def test_image_jpg_is_read_as_image_jpeg(
        native_registry: Registry, native_server: NativeServer) -> None:
    jpeg = b"\xff\xd8\xff\xe0" + bytes(16)
    await native_registry.complete("omni", image_message(data_url(jpeg, "image/jpg")))
    sent = native_server.seen[-1]["messages"][0]["content"][1]["image_url"]["url"]
    assert sent == data_url(jpeg, "image/jpeg")


@pytest.mark.parametrize(("url", "fragment"), [
    (data_url(PNG, "image/jpeg"), "says image/jpeg but the bytes are image/png"),
    (data_url(b"not an image at all"), "not an image of that type"),
    (data_url(PNG, "image/svg+xml"), "image type 'image/svg\\+xml' is not accepted"),
    ("data:image/png;base64,%%%%", "not valid base64"),
    ("data:image/png," + "x" * 10, "must be data:<type>;base64"),
    ("data:image/png;base64,", "holds no bytes"),
    ("file:///etc/passwd", "must be http\\(s\\)"),
    ("https:///nohost.png", "must be http\\(s\\)"),
])
async def test_bad_image_urls_are_refused_before_any_io(
        native_registry: Registry, native_server: NativeServer, url: str,
        fragment: str) -> None:
    with pytest.raises(InvalidRequestError, match=fragment) as caught:
        await native_registry.complete("omni", image_message(url))
    assert caught.value.param == "messages[0].content[1].image_url.url"
    assert native_server.seen == []


async def test_an_https_image_url_is_passed_on_untouched(
        native_registry: Registry, native_server: NativeServer) -> None:
    url = "https://example.com/cat.png?size=large"
    await native_registry.complete("omni", [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": url, "detail": "low"}}]}])
    assert native_server.seen[-1]["messages"][0]["content"] == [
        {"type": "image_url", "image_url": {"url": url, "detail": "low"}}]


async def test_an_image_for_a_text_only_model_names_the_models_that_see(
        native_registry: Registry, native_server: NativeServer) -> None:
    with pytest.raises(CapabilityError) as caught:
        await native_registry.complete("plain", image_message(data_url(PNG)))
    assert caught.value.capability == "image_input"
    assert caught.value.models == ("native/omni",)
    assert caught.value.param == "messages"
    assert native_server.seen == []


async def test_message_objects_carry_images_and_tool_calls_too(
        native_registry: Registry, native_server: NativeServer) -> None:
    reply = await native_registry.complete("omni", [
        Message("user", "look", parts=[TextPart("look"), ImagePart(data=PNG,
                                                                   mime_type="image/png")]),
        Message("assistant", "", tool_calls=[ToolCall("call_1", "get_weather", "{}")]),
        Message("tool", "sunny", tool_call_id="call_1")])
    assert reply.text == "The tool said sunny"
    sent = native_server.seen[-1]["messages"]
    assert sent[0]["content"][1] == {"type": "image_url", "image_url": {"url": data_url(PNG)}}
    assert sent[1] == {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function",
         "function": {"name": "get_weather", "arguments": "{}"}}]}


@pytest.mark.parametrize(("message", "param"), [
    (Message("user", "x", parts=[ImagePart(data=b"GIF89a...", mime_type="image/png")]),
     "messages[0].content[0]"),
    (Message("user", "x", parts=[ImagePart(url="file:///etc/passwd")]),
     "messages[0].content[0]"),
    (Message("user", "x", parts=[{"type": "text", "text": "x"}]),  # type: ignore[list-item]
     "messages[0].content[0]"),
    (Message("system", "x", parts=[ImagePart(url="https://example.com/a.png")]),
     "messages[0].content[0]"),
    (Message("user", "x", tool_calls=[ToolCall("c", "f")]), "messages[0].tool_calls[0]"),
])
async def test_message_objects_are_held_to_the_rules_of_dicts(
        native_registry: Registry, native_server: NativeServer, message: Message,
        param: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        await native_registry.complete("omni", [message, {"role": "user", "content": "hi"}])
    assert caught.value.param == param
    assert native_server.seen == []
