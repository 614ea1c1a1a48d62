"""Helpers shared by the AiChats tests: requests and configs built with jackfield's test kit."""

from __future__ import annotations

from typing import Any

import jackfield_aichats
from jackfield.provider import CompletionRequest, ProviderConfig
from jackfield.testing import make_config as kit_config
from jackfield.testing import make_request as kit_request

SPEC = jackfield_aichats.jackfield_provider()
COOKIE = "session=test-cookie"  # a made-up value: no real cookie belongs in the tests


def make_request(messages: Any = "hi", model: str = "gpt-4") -> CompletionRequest:
    """Return a validated CompletionRequest for one of the AiChats models."""
    return kit_request(SPEC, model, messages)


def make_config(base_url: str | None = None, cookie: str | None = COOKIE) -> ProviderConfig:
    """Return the config the registry would resolve for these explicit settings."""
    return kit_config(SPEC, base_url=base_url, cookie=cookie)
