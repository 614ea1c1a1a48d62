"""Helpers shared by the AiChats tests: requests, configs and the running emulator."""

from __future__ import annotations

from typing import Any

import plugboard_aichats
from plugboard.config import ProviderConfig, resolve_config
from plugboard.messages import normalize_messages
from plugboard.requests import CompletionRequest

COOKIE = "session=test-cookie"  # a made-up value: no real cookie belongs in the tests


def make_request(messages: Any = "hi", model: str = "gpt-4") -> CompletionRequest:
    """Return a validated CompletionRequest for one of the AiChats models."""
    spec = plugboard_aichats.plugboard_provider()
    return CompletionRequest(provider="aichats", model=spec.model(model),
                             messages=normalize_messages(messages))


def make_config(base_url: str | None = None, cookie: str | None = COOKIE) -> ProviderConfig:
    """Return the config the registry would resolve for these explicit settings."""
    explicit: dict[str, str] = {}
    if base_url is not None:
        explicit["base_url"] = base_url
    if cookie is not None:
        explicit["cookie"] = cookie
    return resolve_config(plugboard_aichats.plugboard_provider(), explicit, {})
