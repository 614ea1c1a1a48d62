"""Property tests: whatever value a first-class parameter gets, the core either accepts it or
refuses it with an InvalidRequestError whose `param` names that parameter, never anything
else and never by crashing; what it accepts is what the model is sent."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from jackfield import Capabilities, InvalidRequestError
from jackfield.provider import ModelSpec
from jackfield.testing import make_request
from nativeprovider import NativeProvider

# A model whose capabilities are all unknown: whatever the core accepts is sent to it.
SPEC = NativeProvider(extra_models=[ModelSpec("open", capabilities=Capabilities.unknown())]
                      ).jackfield_provider()
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
    | st.text(max_size=8) | st.sampled_from(["auto", "none", "required", "text", "low"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["type", "function", "name", "parameters", "json_schema", "schema",
                         "strict", "x"]), inner, max_size=3),
    max_leaves=8,
)
PARAMS = ["temperature", "top_p", "max_tokens", "max_completion_tokens", "presence_penalty",
          "frequency_penalty", "stop", "seed", "tools", "tool_choice", "parallel_tool_calls",
          "response_format", "n", "reasoning_effort", "logprobs", "top_logprobs", "prompted"]
TOOL = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}


@settings(max_examples=400, deadline=None)
@given(name=st.sampled_from(PARAMS), value=JSONISH, with_tools=st.booleans())
def test_a_parameter_is_accepted_or_refused_by_its_name(name: str, value: Any,
                                                        with_tools: bool) -> None:
    extra: dict[str, Any] = {"tools": [TOOL]} if with_tools and name != "tools" else {}
    if name == "top_logprobs":
        extra["logprobs"] = True
    try:
        request = make_request(SPEC, "open", "hi", **extra, **{name: value})
    except InvalidRequestError as error:
        assert error.param is not None
        assert error.param == name or error.param.startswith((f"{name}.", f"{name}[")), (
            error.param, name)
        return
    if value is None or value == [] or name in ("n", "prompted"):
        return  # not set (an empty list of stops or tools asks for none), or the core's own
    sent = request.params.to_openai()
    wire = "max_tokens" if name == "max_completion_tokens" else name
    if name == "tool_choice" and not with_tools:
        assert wire not in sent  # changes nothing without tools: reported, not sent
    elif name in ("response_format", "logprobs", "parallel_tool_calls") and wire not in sent:
        assert value in ({"type": "text"}, False) or not with_tools
    else:
        assert wire in sent, (name, value, sent)
