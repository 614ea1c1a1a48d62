"""Route by need: a call that needs tools, images, a JSON mode or logprobs goes only to the
candidates that have it (or declare it unknown); when none has it, one CapabilityError names
the capability and the models that have it, before any I/O."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from jackfield import Capabilities, CapabilityError, InvalidRequestError, Registry
from jackfield.provider import ModelSpec
from jackfield.testing import png_bytes
from nativeprovider import NativeProvider, NativeServer

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "parameters": {"type": "object",
                                          "properties": {"city": {"type": "string"}}}}}
SCHEMA = {"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "object"}}}
IMAGE = [{"role": "user", "content": [
    {"type": "text", "text": "what?"},
    {"type": "image_url", "image_url": {
        "url": "data:image/png;base64," + base64.b64encode(png_bytes("x")).decode()}}]}]
CALLED = [{"role": "user", "content": "weather?"},
          {"role": "assistant", "content": None, "tool_calls": [
              {"id": "c1", "type": "function",
               "function": {"name": "get_weather", "arguments": "{}"}}]},
          {"role": "tool", "tool_call_id": "c1", "content": "sunny"}]
# Each need: the call's arguments, and the capability it needs.
NEEDS: dict[str, tuple[Any, dict[str, Any], str]] = {
    "tools": ("hi", {"tools": [WEATHER]}, "tools"),
    "tool history": (CALLED, {}, "tools"),
    "images": (IMAGE, {}, "image_input"),
    "json_schema": ("hi", {"response_format": SCHEMA}, "json_schema"),
    "json_object": ("hi", {"response_format": {"type": "json_object"}}, "json_object"),
    "logprobs": ("hi", {"logprobs": True, "top_logprobs": 2}, "logprobs"),
}
OPEN = ModelSpec("open", capabilities=Capabilities.unknown())
SCORER = ModelSpec("scorer", capabilities=Capabilities(logprobs=True))


@pytest.fixture
async def routed(native_server: NativeServer, serve_app: Any, make_registry: Any) -> Registry:
    """A registry whose route 'cheap-first' tries the text-only model before the others."""
    url = await serve_app(native_server.app)
    registry: Registry = make_registry(
        [NativeProvider(extra_models=[SCORER])], base_urls={"native": url},
        routes={"cheap-first": ["native/plain", "native/scorer", "native/omni"]})
    return registry


@pytest.mark.parametrize("need", ["tools", "tool history", "images", "json_schema",
                                  "json_object"])
async def test_a_call_skips_the_candidates_that_lack_what_it_needs(
        routed: Registry, native_server: NativeServer, need: str) -> None:
    messages, options, _ = NEEDS[need]
    reply = await routed.complete("cheap-first", messages, **options)
    assert [body["model"] for body in native_server.seen] == ["omni"]
    assert (reply.provider, reply.model) == ("native", "omni")
    assert reply.warnings == ()


async def test_a_plain_call_takes_the_first_candidate(
        routed: Registry, native_server: NativeServer) -> None:
    await routed.complete("cheap-first", "hi")
    assert [body["model"] for body in native_server.seen] == ["plain"]


async def test_logprobs_go_to_the_one_model_that_has_them(
        routed: Registry, native_server: NativeServer) -> None:
    await routed.complete("cheap-first", "hi", logprobs=True, top_logprobs=2)
    assert native_server.seen[-1]["model"] == "scorer"
    assert (native_server.seen[-1]["logprobs"], native_server.seen[-1]["top_logprobs"]) == (
        True, 2)


async def test_tool_choice_none_needs_no_tools_and_is_not_sent_where_there_are_none(
        routed: Registry, native_server: NativeServer) -> None:
    reply = await routed.complete("cheap-first", "hi", tools=[WEATHER], tool_choice="none")
    assert native_server.seen[-1]["model"] == "plain"
    assert "tools" not in native_server.seen[-1]
    assert [w.param for w in reply.warnings] == ["tools"]


@pytest.mark.parametrize(("need", "models", "param"), [
    ("tools", ("native/omni", "native/thinker"), "tools"),
    ("tool history", ("native/omni", "native/thinker"), "messages"),
    ("images", ("native/omni",), "messages"),
    ("json_schema", ("native/omni", "native/thinker"), "response_format"),
    ("json_object", ("native/omni", "native/thinker"), "response_format"),
    ("logprobs", ("native/scorer",), "logprobs"),
])
async def test_when_no_candidate_has_it_the_error_names_the_capability_and_who_has_it(
        routed: Registry, native_server: NativeServer, need: str, models: tuple[str, ...],
        param: str) -> None:
    messages, options, capability = NEEDS[need]
    with pytest.raises(CapabilityError) as caught:
        await routed.complete("native/plain", messages, **options)
    error = caught.value
    assert (error.capability, error.models, error.param) == (capability, models, param)
    assert "native/plain has no" in str(error) and models[0] in str(error)
    assert native_server.seen == []


async def test_a_call_needing_two_things_lists_the_models_that_have_both(
        routed: Registry) -> None:
    with pytest.raises(CapabilityError) as caught:
        await routed.complete("native/thinker", IMAGE, tools=[WEATHER])
    assert caught.value.capability == "image_input"
    assert caught.value.models == ("native/omni",)  # thinker has tools, not image input
    assert "image input and tool calling" in str(caught.value)


async def test_the_error_offers_prompted_tools_and_json_but_not_prompted_images(
        routed: Registry) -> None:
    with pytest.raises(CapabilityError, match=r"prompted=\{'tools'\}"):
        await routed.complete("native/plain", "hi", tools=[WEATHER])
    with pytest.raises(CapabilityError, match=r"prompted=\{'json'\}"):
        await routed.complete("native/plain", "hi", response_format=SCHEMA)
    with pytest.raises(CapabilityError) as caught:
        await routed.complete("native/plain", IMAGE)
    assert "prompted" not in str(caught.value)


async def test_an_option_error_of_a_capable_candidate_beats_the_capability_errors(
        native_server: NativeServer, serve_app: Any, make_registry: Any) -> None:
    url = await serve_app(native_server.app)
    registry = make_registry([NativeProvider()], base_urls={"native": url},
                             routes={"r": ["native/plain", "native/omni"]})
    # omni has the tools and would serve but for top_k: that is what the caller must fix.
    with pytest.raises(InvalidRequestError) as caught:
        await registry.complete("r", "hi", tools=[WEATHER], top_k=1)
    assert not isinstance(caught.value, CapabilityError)
    assert caught.value.param == "top_k"
    assert native_server.seen == []


async def test_unknown_capabilities_route_as_supported_and_everything_is_sent(
        native_server: NativeServer, serve_app: Any, make_registry: Any) -> None:
    url = await serve_app(native_server.app)
    registry = make_registry([NativeProvider(extra_models=[OPEN])], base_urls={"native": url})
    reply = await registry.complete(
        "open", IMAGE, tools=[WEATHER], stop=["END"], seed=3, temperature=0.1, top_p=0.2,
        reasoning_effort="low", logprobs=True)
    body = native_server.seen[-1]
    assert body["model"] == "open"
    assert (body["stop"], body["seed"], body["temperature"], body["top_p"]) == (
        ["END"], 3, 0.1, 0.2)
    assert (body["reasoning_effort"], body["logprobs"], len(body["tools"])) == ("low", True, 1)
    assert reply.warnings == () and reply.emulated == ()  # the server decides, not the core
    reply = await registry.complete("open", "hi", response_format=SCHEMA)
    assert native_server.seen[-1]["response_format"] == SCHEMA
