"""Property tests: malformed messages and options are rejected before any I/O."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jackfield import InvalidRequestError, Registry, UnknownModelError
from jackfield._engine.params import NO_OPS
from jackfield._types.specs import FIRST_CLASS
from mockprovider import MockProvider, MockServer

JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=3),
    max_leaves=8,
)
VALID_ROLES = ("system", "user", "assistant")


def is_valid_message(item: Any) -> bool:
    return (isinstance(item, dict) and item.get("role") in VALID_ROLES
            and isinstance(item.get("content"), str))


@pytest.fixture(scope="module")
def never_called() -> MockServer:
    return MockServer()


FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(messages=JSONISH)
async def test_malformed_messages_never_reach_the_network(messages: Any) -> None:
    registry = Registry([MockProvider()], environ={},
                        config={"mock": {"base_url": "http://127.0.0.1:9"}})
    if isinstance(messages, list) and messages and all(map(is_valid_message, messages)) and any(
            m["role"] != "system" for m in messages):
        return  # a valid conversation: not this test's business
    if isinstance(messages, str) and messages.strip():
        return  # a bare string is one user turn
    with pytest.raises(InvalidRequestError):
        await registry.complete("echo", messages)
    await registry.aclose()


@FUZZ
@given(options=st.dictionaries(st.text(min_size=1, max_size=10), JSONISH, min_size=1,
                               max_size=3))
async def test_wrong_options_never_reach_the_network(options: dict[str, Any]) -> None:
    registry = Registry([MockProvider()], environ={},
                        config={"mock": {"base_url": "http://127.0.0.1:9"}})
    value = options.get("creativity")  # the mock provider's own option, a float
    if set(options) == {"creativity"} and (value is None or (
            isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value) and (isinstance(value, float) or -2**63 <= value < 2**63))):
        return  # acceptable options
    reserved = {"model", "messages", "stream", "timeout", "proxy"}
    if set(options) & (reserved | FIRST_CLASS | NO_OPS):
        return  # complete()'s own arguments: test_fuzz_params.py checks those
    with pytest.raises(InvalidRequestError) as caught:
        await registry.complete("echo", "hi", **options)
    assert caught.value.param in options  # the error names the option it refuses
    await registry.aclose()


@FUZZ
@given(model=JSONISH)
async def test_bad_model_names_are_typed_errors(model: Any) -> None:
    registry = Registry([MockProvider()], environ={})
    if model in ("echo", "parrot", "painter", "mock", "mock/echo", "mock/parrot",
                 "mock/painter"):
        return
    with pytest.raises((InvalidRequestError, UnknownModelError)):
        await registry.complete(model, "hi")
    await registry.aclose()
