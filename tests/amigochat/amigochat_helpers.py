"""Helpers shared by the AmigoChat tests: requests, configs and the running emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import plugboard_amigochat
from plugboard.config import ProviderConfig, resolve_config
from plugboard.events import Event
from plugboard.messages import normalize_messages
from plugboard.options import validate_options
from plugboard.requests import CompletionRequest, HttpRequest

SPEC = plugboard_amigochat.plugboard_provider()
TOKEN = "test-token-not-a-secret"  # a made-up value: no real token belongs in the tests


def make_request(messages: Any = "hi", model: str = "gpt-4o-mini", *, stream: bool = False,
                 **options: Any) -> CompletionRequest:
    """Return the request the core would hand over: alias resolved, options validated."""
    spec = SPEC.model(SPEC.aliases.get(model, model))
    sent = validate_options(SPEC.name, spec.kind, SPEC.options, options)
    return CompletionRequest(provider=SPEC.name, model=spec, messages=normalize_messages(messages),
                             options=sent, stream=stream, requested=model)


def make_config(base_url: str | None = None, token: str | None = None) -> ProviderConfig:
    """Return the config the registry would resolve for these explicit settings."""
    explicit: dict[str, str] = {}
    if base_url is not None:
        explicit["base_url"] = base_url
    if token is not None:
        explicit["token"] = token
    return resolve_config(SPEC, explicit, {})


def build(request: CompletionRequest, config: ProviderConfig) -> HttpRequest:
    """Call the build hook and insist that it answered."""
    built = plugboard_amigochat.plugboard_build_request(request=request, config=config)
    assert built is not None
    return built


async def collect(events: AsyncIterator[Event] | None) -> list[Event]:
    """Read a parse generator to its end."""
    assert events is not None
    return [event async for event in events]
