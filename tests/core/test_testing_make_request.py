"""jackfield.testing.make_request: a plugin author gets the request a Registry would hand the
plugin, complete()'s parameters fitted to the model's declared capabilities."""

from __future__ import annotations

import pytest

from jackfield import CapabilityError, InvalidRequestError, ResponseFormat, Tool, ToolChoice
from jackfield.testing import make_request
from mockprovider import MockProvider
from nativeprovider import NativeProvider

NATIVE = NativeProvider().jackfield_provider()
MOCK = MockProvider().jackfield_provider()
WEATHER = {"type": "function", "function": {"name": "get_weather"}}


def test_what_the_model_honours_is_in_params_and_nothing_else() -> None:
    request = make_request(NATIVE, "gpt-4o", "hi", temperature=0.3, seed=1, stop="END",
                           tools=[WEATHER], tool_choice="required")
    assert request.model.id == "omni"  # the alias, resolved
    params = request.params
    assert (params.temperature, params.seed, params.stop) == (0.3, 1, ("END",))
    assert params.tools == (Tool("get_weather"),)
    assert params.tool_choice == ToolChoice("required")
    assert request.options == {}


def test_what_a_text_only_model_cannot_take_is_left_out_as_in_a_real_call() -> None:
    request = make_request(NATIVE, "plain", "hi", temperature=0.3, seed=1, stop="END")
    # not honoured: left out (a warning in a real call); stop: the core applies it
    assert (request.params.temperature, request.params.seed, request.params.stop) == (
        None, None, ())


def test_the_provider_s_own_options_get_their_defaults() -> None:
    assert make_request(MOCK).options == {"creativity": 0.7}
    request = make_request(MOCK, "parrot", "hi", creativity=1, temperature=0.2, top_p=0.5)
    assert request.options == {"creativity": 1.0}
    assert (request.params.temperature, request.params.top_p) == (0.2, None)


def test_messages_come_as_the_core_normalizes_them() -> None:
    request = make_request(NATIVE, "omni", [
        {"role": "developer", "content": "be brief"},
        {"role": "assistant", "content": None, "refusal": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "done"}])
    assert [m.role for m in request.messages] == ["system", "assistant", "tool"]
    assert request.messages[1].tool_calls[0].name == "f"
    assert request.prompt == "done"


def test_a_call_the_model_cannot_serve_raises_what_complete_would() -> None:
    with pytest.raises(CapabilityError) as caught:
        make_request(NATIVE, "plain", "hi", tools=[WEATHER])
    assert caught.value.models == ("native/omni", "native/thinker")  # from the spec itself
    with pytest.raises(InvalidRequestError) as refused:
        make_request(NATIVE, "omni", "hi", temperature=9)
    assert refused.value.param == "temperature"


def test_strict_refuses_what_would_be_a_warning() -> None:
    assert make_request(NATIVE, "plain", "hi", seed=1).params.seed is None
    with pytest.raises(InvalidRequestError, match="Strict mode") as caught:
        make_request(NATIVE, "plain", "hi", seed=1, strict=True)
    assert caught.value.param == "seed"


def test_a_response_format_object_is_checked_and_passed_on() -> None:
    wanted = ResponseFormat("json_schema", "answer", {"type": "object"}, strict=True)
    assert make_request(NATIVE, "omni", "hi", response_format=wanted).params.response_format == (
        wanted)


def test_png_bytes_names_the_seed_type_it_needs() -> None:
    from jackfield.testing import png_bytes

    assert png_bytes("a") == png_bytes("a") and png_bytes("a") != png_bytes("b")
    with pytest.raises(TypeError, match=r"takes a str seed.*pass str\(seed\)"):
        png_bytes(1)  # type: ignore[arg-type]
