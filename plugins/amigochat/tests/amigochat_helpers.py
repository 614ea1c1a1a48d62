"""Helpers shared by the AmigoChat tests: requests, configs and the running emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import jackfield_amigochat
from jackfield.provider import CompletionRequest, Event, HttpRequest, ProviderConfig
from jackfield.testing import make_config as kit_config
from jackfield.testing import make_request as kit_request

SPEC = jackfield_amigochat.jackfield_provider()
TOKEN = "test-token-not-a-secret"  # a made-up value: no real token belongs in the tests


def make_request(messages: Any = "hi", model: str = "gpt-4o-mini", *, stream: bool = False,
                 **options: Any) -> CompletionRequest:
    """Return the request the core would hand over: alias resolved, options validated."""
    return kit_request(SPEC, model, messages, stream=stream, **options)


def make_config(base_url: str | None = None, token: str | None = None) -> ProviderConfig:
    """Return the config the registry would resolve for these explicit settings."""
    return kit_config(SPEC, base_url=base_url, token=token)


def build(request: CompletionRequest, config: ProviderConfig) -> HttpRequest:
    """Call the build hook and insist that it answered."""
    built = jackfield_amigochat.jackfield_build_request(request=request, config=config)
    assert built is not None
    return built


async def collect(events: AsyncIterator[Event] | None) -> list[Event]:
    """Read a parse generator to its end."""
    assert events is not None
    return [event async for event in events]
