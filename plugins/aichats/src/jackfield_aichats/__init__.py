"""jackfield provider plugin for ai-chats.org: `gpt-4` chat and `dalle` images.

Importing this module must stay cheap: listing models pulls in neither aiohttp nor the
emulator, which is imported only when the emulator hook is called.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from jackfield.provider import ModelSpec, ProviderSpec, Setting, hookimpl

from .parse import parse_response
from .wire import build_request

if TYPE_CHECKING:
    from aiohttp import web

    from jackfield.provider import (
        CompletionRequest,
        Event,
        HttpRequest,
        HttpResponse,
        ProviderConfig,
        ProviderTransport,
    )

__all__ = [
    "PROVIDER",
    "jackfield_build_request",
    "jackfield_emulator",
    "jackfield_parse_response",
    "jackfield_provider",
]

PROVIDER = "aichats"
AUTH_HINT = (
    "Copy the cookie header your browser sends to ai-chats.org and set it as "
    "JACKFIELD_AICHATS_COOKIE, or pass Registry(config={'aichats': {'cookie': ...}})."
)


@hookimpl
def jackfield_provider() -> ProviderSpec:
    """Return the AiChats provider: gpt-4 (chat, default) and dalle (image), no options."""
    return ProviderSpec(
        name=PROVIDER,
        base_url="https://ai-chats.org",
        models=(ModelSpec("gpt-4", "chat"), ModelSpec("dalle", "image")),
        default_model="gpt-4",
        options={},  # the service takes no parameters: any option is rejected before I/O
        settings={"cookie": Setting(doc="The browser cookie header ai-chats.org expects.",
                                    secret=True)},
        auth_hint=AUTH_HINT,
    )


@hookimpl
def jackfield_build_request(request: CompletionRequest, config: ProviderConfig) -> HttpRequest:
    """Return the HTTP request for a chat or image call (no I/O)."""
    return build_request(request, config)


@hookimpl
def jackfield_parse_response(request: CompletionRequest, response: HttpResponse,
                             transport: ProviderTransport) -> AsyncIterator[Event]:
    """Return the events of a 2xx reply, each yielded as it arrives."""
    return parse_response(request, response, transport)


@hookimpl
def jackfield_emulator() -> Callable[..., web.Application]:
    """Return the factory of the loopback AiChats emulator (create_app)."""
    from .emulator import create_app  # imports aiohttp: only when an emulator is wanted

    return create_app
