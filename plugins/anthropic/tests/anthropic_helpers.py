"""Helpers shared by the jackfield-anthropic tests: keys, registries on the emulator."""

from __future__ import annotations

from typing import Any

import jackfield_anthropic
from jackfield import Registry
from jackfield.testing import RegistryFactory

SPEC = jackfield_anthropic.jackfield_provider()
KEY = "sk-ant-test-key-not-a-secret-0123456789"  # made up: no real key belongs in the tests
OTHER_KEY = "sk-ant-other-key-not-a-secret-9876543210"
SONNET = "claude-sonnet-4-5-20250929"
HAIKU = "claude-3-5-haiku-20241022"


def anthropic_registry(make_registry: RegistryFactory, url: str, *, key: str | None = KEY,
                       **kwargs: Any) -> Registry:
    """Return a registry of this plugin alone, its default instance pointed at url."""
    settings: dict[str, Any] = {"base_url": url}
    if key is not None:
        settings["api_key"] = key
    return make_registry([jackfield_anthropic], config={"anthropic": settings}, **kwargs)


def reply_to(words: str, model: str = SONNET) -> str:
    """Return the emulator's answer to a plain call."""
    return f"Hello from the Anthropic emulator ({model}). You said: {words}"


async def complete(registry: Registry, model: str, messages: Any, *, stream: bool,
                   **params: Any) -> Any:
    """Return the Completion of a call, streamed (read to its end) or not."""
    if not stream:
        return await registry.complete(model, messages, **params)
    reply = await registry.complete(model, messages, stream=True, **params)
    async with reply:
        async for _ in reply:
            pass
    return reply.completion
