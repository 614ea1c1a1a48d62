"""Values that would remove a limit, overflow or hang are refused before any I/O (issue 10)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from jackfield import (
    ConfigurationError,
    InvalidRequestError,
    Limits,
    Message,
    RetryPolicy,
    Timeouts,
)
from jackfield._engine.options import validate_options
from jackfield.provider import Option
from mockprovider import MockServer

HUGE = 10**4000  # more digits than Python will even print


@pytest.mark.parametrize("timeout", [math.nan, math.inf, -math.inf, 1e300, HUGE, 0, -1])
async def test_a_call_timeout_that_is_no_limit_is_refused(
        mock_registry: Any, mock_server: MockServer, timeout: float) -> None:
    with pytest.raises(InvalidRequestError, match="timeout must be a number of seconds above 0"):
        await mock_registry.complete("echo", "hi", timeout=timeout)
    assert mock_server.seen == []


@pytest.mark.parametrize("make", [
    lambda: Timeouts(read_idle=0), lambda: Timeouts(read_idle=math.nan),
    lambda: Timeouts(connect=math.inf), lambda: Timeouts(total=math.inf),
    lambda: Timeouts(total=HUGE), lambda: RetryPolicy(backoff=math.nan),
    lambda: RetryPolicy(max_retry_after=math.inf),
    lambda: Limits(max_connections=HUGE), lambda: Limits(max_images=0),
    lambda: Limits(max_call_bytes=2**64),
])
def test_policies_refuse_values_that_remove_a_limit(make: Any) -> None:
    with pytest.raises(ConfigurationError, match="must be") as caught:
        make()
    assert len(str(caught.value)) < 200  # a huge int is described, not printed


@pytest.mark.parametrize(("value", "fragment"), [
    (HUGE, "whole number from"), (2**63, "whole number from"), (-(2**63) - 1, "whole number"),
    (math.nan, "finite"), (math.inf, "finite"), ("\udcff", "unpaired surrogate"),
])
def test_options_that_cannot_be_sent_are_refused(value: object, fragment: str) -> None:
    declared = {"max_tokens": Option(int), "temperature": Option(float), "stop": Option(str)}
    name = {int: "max_tokens", float: "temperature", str: "stop"}[type(value)]
    with pytest.raises(InvalidRequestError, match=fragment) as caught:
        validate_options("p", "chat", declared, {name: value})
    assert len(str(caught.value)) < 200
    assert validate_options("p", "chat", declared, {"max_tokens": 2**63 - 1}) == {
        "max_tokens": 2**63 - 1}


@pytest.mark.parametrize("messages", [
    "caf\udce9", [{"role": "user", "content": "\ud800"}],
    [{"role": "user", "content": [{"type": "text", "text": "a\udfff"}]}],
    [Message("user", "x\ud83d")],
])
async def test_unpaired_surrogates_in_messages_are_refused(
        mock_registry: Any, mock_server: MockServer, messages: Any) -> None:
    with pytest.raises(InvalidRequestError, match="unpaired surrogate"):
        await mock_registry.complete("echo", messages)
    assert mock_server.seen == []


@pytest.mark.parametrize("proxy", ["http://h:99999", "http://[::1", "http://exa mple:3128",
                                   "http://:3128", "socks5://127.0.0.1:1080"])
async def test_an_invalid_proxy_url_is_a_configuration_error(
        mock_registry: Any, mock_server: MockServer, proxy: str) -> None:
    with pytest.raises(ConfigurationError, match="proxy= must be an http"):
        await mock_registry.complete("echo", "hi", proxy=proxy)
    assert mock_server.seen == []
