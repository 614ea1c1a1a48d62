"""jackfield provider plugin for AmigoChat (amigochat.io): 29 chat and 8 image models.

Listing models imports only the model table: the request builder, the response parser and
the emulator (which needs aiohttp) are imported inside the hooks that use them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from jackfield.provider import hookimpl

from .spec import provider_spec

if TYPE_CHECKING:
    from jackfield.provider import (
        CompletionRequest,
        Event,
        HttpRequest,
        HttpResponse,
        ProviderConfig,
        ProviderSpec,
        ProviderTransport,
    )

__all__ = [
    "jackfield_build_request",
    "jackfield_emulator",
    "jackfield_parse_response",
    "jackfield_provider",
]
__version__ = "0.4.0"


@hookimpl
def jackfield_provider() -> ProviderSpec:
    """Return the AmigoChat provider: models, aliases, options and the optional token."""
    return provider_spec()


@hookimpl
def jackfield_build_request(request: CompletionRequest, config: ProviderConfig) -> HttpRequest:
    """Return the HTTP request for an AmigoChat call (the core routes only ours here)."""
    from .wire import build_request

    return build_request(request, config)


@hookimpl
def jackfield_parse_response(
    request: CompletionRequest, response: HttpResponse, transport: ProviderTransport
) -> AsyncIterator[Event]:
    """Return the events of an AmigoChat reply, each yielded as it arrives."""
    from .parsing import parse_response

    return parse_response(request, response, transport)


@hookimpl
def jackfield_emulator() -> Callable[..., Any]:
    """Return create_app, the factory of the loopback AmigoChat emulator."""
    from .emulator import create_app

    return create_app
