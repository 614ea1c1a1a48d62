"""Property tests: conversations in shapes near OpenAI's (the keys and values clients send,
mixed at random) are either accepted or refused with an InvalidRequestError whose `param`
points into `messages`; never another exception. What is accepted survives the wire form."""

from __future__ import annotations

import base64
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from jackfield import InvalidRequestError, Message
from jackfield._types.message_input import normalize_messages
from jackfield.testing import png_bytes

PNG_URL = "data:image/png;base64," + base64.b64encode(png_bytes("p")).decode()
LEAF = (st.none() | st.booleans() | st.integers() | st.text(max_size=6)
        | st.sampled_from(["user", "assistant", "system", "tool", "developer", "function",
                           "text", "image_url", "refusal", "call_1", "{}", PNG_URL,
                           "https://example.com/a.png", "data:image/png;base64,AAAA"]))
KEYS = st.sampled_from(["role", "content", "name", "tool_calls", "tool_call_id", "refusal",
                        "annotations", "audio", "function_call", "parsed", "type", "text",
                        "image_url", "url", "detail", "id", "function", "arguments", "index",
                        "images"])
SHAPE = st.recursive(LEAF, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(KEYS, inner, max_size=4), max_leaves=12)
CONVERSATION = st.lists(st.dictionaries(KEYS, SHAPE, max_size=5), min_size=1, max_size=4)


@settings(max_examples=600, deadline=None)
@given(messages=CONVERSATION)
def test_near_openai_shapes_are_accepted_or_refused_by_name(messages: list[Any]) -> None:
    warnings: list[Any] = []
    try:
        normalized = normalize_messages(messages, warnings)
    except InvalidRequestError as error:
        assert error.param is not None and error.param.startswith("messages"), error.param
        return
    assert all(isinstance(message, Message) for message in normalized)
    assert all(w.param.startswith("messages[") for w in warnings)
    for message in normalized:
        message.to_dict()  # every accepted message has a wire form


@settings(max_examples=200, deadline=None)
@given(role=st.sampled_from(["system", "user", "assistant"]), text=st.text())
def test_any_text_is_a_message_unless_it_is_not_utf8(role: str, text: str) -> None:
    conversation = [{"role": role, "content": text}, {"role": "user", "content": "x"}]
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            normalize_messages(conversation)
        except InvalidRequestError as error:
            assert error.param == "messages[0].content"
            return
        raise AssertionError("an unpaired surrogate was accepted") from None
    assert normalize_messages(conversation)[0] == Message(role, text)  # type: ignore[arg-type]
