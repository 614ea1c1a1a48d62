"""plugboard provider plugin for AmigoChat (amigochat.io): 29 chat and 8 image models.

Listing models imports only the model table: the request builder, the response parser and
the emulator (which needs aiohttp) are imported inside the hooks that use them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from plugboard import hookimpl

from .spec import provider_spec

if TYPE_CHECKING:
    from plugboard.config import ProviderConfig
    from plugboard.events import Event
    from plugboard.requests import CompletionRequest, HttpRequest
    from plugboard.response import HttpResponse
    from plugboard.specs import ProviderSpec
    from plugboard.transport import ProviderTransport

__all__ = [
    "plugboard_build_request",
    "plugboard_emulator",
    "plugboard_parse_response",
    "plugboard_provider",
]
__version__ = "0.1.0"


@hookimpl
def plugboard_provider() -> ProviderSpec:
    """Return the AmigoChat provider: models, aliases, options and the optional token."""
    return provider_spec()


@hookimpl
def plugboard_build_request(request: CompletionRequest, config: ProviderConfig) -> HttpRequest:
    """Return the HTTP request for an AmigoChat call (the core routes only ours here)."""
    from .wire import build_request

    return build_request(request, config)


@hookimpl
def plugboard_parse_response(
    request: CompletionRequest, response: HttpResponse, transport: ProviderTransport
) -> AsyncIterator[Event]:
    """Return the events of an AmigoChat reply, each yielded as it arrives."""
    from .parsing import parse_response

    return parse_response(request, response, transport)


@hookimpl
def plugboard_emulator() -> Callable[..., Any]:
    """Return create_app, the factory of the loopback AmigoChat emulator."""
    from .emulator import create_app

    return create_app
