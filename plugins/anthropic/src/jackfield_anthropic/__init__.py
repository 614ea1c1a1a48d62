"""jackfield provider plugin for Anthropic's Messages API (Claude) and every
Anthropic-compatible endpoint.

The models are the service's (`GET {base}/v1/models`, page by page), any pinned id is passed
through, and each `[providers.NAME] plugin = "anthropic"` table adds an instance with its own
base URL and key. Importing this module stays cheap (`jackfield models` lists without the
HTTP stack): the hooks import the modules that build and read requests, and the emulator,
only when they run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING

from jackfield.provider import hookimpl

from .spec import PROVIDER, capabilities_for, provider_spec

if TYPE_CHECKING:
    from aiohttp import web

    from jackfield.provider import (
        ErrorReply,
        Event,
        HttpRequest,
        HttpResponse,
        JackfieldError,
        ModelSpec,
        ProviderConfig,
        ProviderRequest,
        ProviderSpec,
        ProviderTransport,
    )

__all__ = [
    "PROVIDER",
    "capabilities_for",
    "jackfield_build_request",
    "jackfield_discover_models",
    "jackfield_emulator",
    "jackfield_error_reply",
    "jackfield_parse_response",
    "jackfield_provider",
]


@hookimpl
def jackfield_provider() -> ProviderSpec:
    """Return the `anthropic` provider: api.anthropic.com, no static models, pass-through."""
    return provider_spec()


@hookimpl
async def jackfield_discover_models(provider: ProviderSpec, config: ProviderConfig,
                                    transport: ProviderTransport) -> Sequence[ModelSpec]:
    """Return the models `GET {base}/v1/models` lists (Anthropic's own API needs a key)."""
    from .listing import discover

    return await discover(provider.name, config, transport)


@hookimpl
def jackfield_error_reply(request: ProviderRequest | None, reply: ErrorReply
                          ) -> JackfieldError | None:
    """Return the typed error Anthropic's `{"type": "error", "error": {...}}` reply means."""
    from .errors import error_reply

    return error_reply(request, reply)


@hookimpl
def jackfield_build_request(request: ProviderRequest, config: ProviderConfig) -> HttpRequest:
    """Return the `POST {base}/v1/messages` request of a chat call (no I/O)."""
    from .wire import build_request

    return build_request(request, config)


@hookimpl
def jackfield_parse_response(request: ProviderRequest, response: HttpResponse,
                             transport: ProviderTransport) -> AsyncIterator[Event]:
    """Return the events of a 2xx Messages reply, each yielded as it arrives."""
    from jackfield.provider import CompletionRequest, ResponseFormatError

    from .parse import parse_messages

    if not isinstance(request, CompletionRequest):  # build_request refused it already
        raise ResponseFormatError(request.provider, "an embedding reply from the Messages "
                                  "API")
    return parse_messages(request, response)


@hookimpl
def jackfield_emulator() -> Callable[..., web.Application]:
    """Return the factory of the loopback Anthropic emulator (create_app)."""
    from .emulator import create_app  # imports aiohttp: only when an emulator is wanted

    return create_app
