"""The guide's example observer logs calls, registered as a module of hooks."""

from __future__ import annotations

import logging
from typing import Any

import call_logger
import pytest
from observekit import MeteredProvider

from jackfield import ProviderUnavailableError, RetryPolicy
from mockprovider import MockServer


async def test_the_example_observer_logs_each_call(
        mock_server: MockServer, serve_app: Any, make_registry: Any,
        caplog: pytest.LogCaptureFixture) -> None:
    registry = make_registry([MeteredProvider()],
                             base_urls={"mock": await serve_app(mock_server.app)},
                             retry=RetryPolicy(attempts=2, backoff=0.01, jitter=False))
    registry.plugin_manager.register(call_logger)
    caplog.set_level(logging.INFO, "call_logger")
    await registry.complete("mock/echo", "hello")
    mock_server.fail += [(503, {}, "{}")] * 2
    with pytest.raises(ProviderUnavailableError):
        await registry.complete("mock/echo", "hello")
    await registry.aclose()
    lines = [record.getMessage() for record in caplog.records if record.name == "call_logger"]
    assert len(lines) == 4
    assert lines[0].startswith("chat mock/echo via mock: ") and ", 2 tokens, overhead " in (
        lines[0])
    assert lines[1:] == ["mock failed (ProviderUnavailableError), retry in 0.01 s",
                         "mock failed (ProviderUnavailableError)",
                         "mock/echo failed: ProviderUnavailableError"]
