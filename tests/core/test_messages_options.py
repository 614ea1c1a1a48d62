"""Message and option validation: clear errors before any I/O."""

from __future__ import annotations

import pytest

from jackfield import InvalidRequestError, Message
from jackfield._engine.options import validate_options
from jackfield._types.message_input import normalize_messages
from jackfield.provider import Option


def test_openai_dicts_and_message_objects_normalize_alike() -> None:
    as_dicts = normalize_messages([{"role": "system", "content": "be brief"},
                                   {"role": "user", "content": "hi"}])
    as_objects = normalize_messages([Message("system", "be brief"), Message("user", "hi")])
    assert as_dicts == as_objects
    assert normalize_messages("hi") == (Message("user", "hi"),)


def test_text_content_parts_are_joined() -> None:
    parts = [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]
    assert normalize_messages([{"role": "user", "content": parts}])[0].content == "ab"


# Each error names the offending field, as its text and as `param` (OpenAI's error bodies).
@pytest.mark.parametrize(("messages", "fragment", "param"), [
    ([], "empty", "messages"),
    ({"role": "user", "content": "x"}, "list", "messages"),
    ([{"role": "robot", "content": "x"}], r"role: must be one of system, user", "messages[0].role"),
    ([{"role": "user"}], "content: is required", "messages[0].content"),
    ([{"role": "user", "content": 3}], "must be a string", "messages[0].content"),
    # image parts are accepted now; one without its image_url is not
    ([{"role": "user", "content": [{"type": "image_url"}]}], r"image_url: must be \{",
     "messages[0].content[0].image_url"),
    (["hi"], "must be a dict", "messages[0]"),
    ([{"role": "system", "content": "x"}], "only system messages", "messages"),
    (42, "list", "messages"),
])
def test_malformed_messages_are_rejected(messages: object, fragment: str, param: str) -> None:
    with pytest.raises(InvalidRequestError, match=fragment) as caught:
        normalize_messages(messages)  # type: ignore[arg-type]
    assert caught.value.param == param


DECLARED = {
    "temperature": Option(float, 0.5, kinds=("chat",)),
    "max_tokens": Option(int, 4000, kinds=("chat",)),
    "style": Option(str, None, kinds=("image",)),
}


def test_defaults_are_filled_in_and_ints_accepted_as_floats() -> None:
    assert validate_options("p", "chat", DECLARED, {"temperature": 1}) == {
        "temperature": 1.0, "max_tokens": 4000}


def test_unknown_option_lists_the_supported_ones() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        validate_options("p", "chat", DECLARED, {"temprature": 1})
    assert "temprature" in str(caught.value)
    assert "Supported options: max_tokens, temperature" in str(caught.value)


def test_options_of_another_kind_are_unknown() -> None:
    with pytest.raises(InvalidRequestError, match="Supported options: style"):
        validate_options("p", "image", DECLARED, {"temperature": 1.0})


@pytest.mark.parametrize("value", ["hot", True, None.__class__, [1]])
def test_wrong_types_are_rejected(value: object) -> None:
    with pytest.raises(InvalidRequestError, match="must be float"):
        validate_options("p", "chat", DECLARED, {"temperature": value})


def test_provider_without_options_rejects_all() -> None:
    with pytest.raises(InvalidRequestError, match="Supported options: none"):
        validate_options("p", "chat", {}, {"temperature": 0.1})
