"""jackfield provider plugin for ai-chats.org: `gpt-4` chat and `dalle` images.

Importing this module must stay cheap: listing models pulls in neither aiohttp nor the
emulator, which is imported only when the emulator hook is called.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from jackfield.provider import Capabilities, ModelSpec, ProviderSpec, Setting, hookimpl

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
# The service takes one text prompt and returns text: no tools, image input, JSON modes, stop,
# seed or sampling parameters. Declared, not defaulted, so that the core's rules are visible
# here: sampling parameters and seed are accepted with a warning and not sent, stop is applied
# by the core, and a call that needs tools or images goes to another model (or is refused).
CHAT_CAPABILITIES = Capabilities(tools=False, image_input=False, json_object=False,
                                 json_schema=False, stop=False, seed=False, reasoning=False,
                                 logprobs=False, sampling=())
AUTH_HINT = (
    "Copy the cookie header your browser sends to ai-chats.org and set it as "
    "JACKFIELD_AICHATS_COOKIE, or pass Registry(config={'aichats': {'cookie': ...}})."
)


@hookimpl
def jackfield_provider() -> ProviderSpec:
    """Return the AiChats provider: gpt-4 (chat, default, text only) and dalle (image)."""
    return ProviderSpec(
        name=PROVIDER,
        base_url="https://ai-chats.org",
        models=(ModelSpec("gpt-4", "chat", capabilities=CHAT_CAPABILITIES),
                ModelSpec("dalle", "image")),
        default_model="gpt-4",
        options={},  # no options of its own: an unknown one is rejected before I/O
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
