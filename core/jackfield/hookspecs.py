"""The hooks a provider plugin implements: model listing, request building, response parsing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from jackfield._http.response import HttpResponse
    from jackfield._http.transport import ProviderTransport
    from jackfield._settings.config import ProviderConfig
    from jackfield._types.events import Event
    from jackfield._types.requests import CompletionRequest, HttpRequest
    from jackfield._types.specs import ProviderSpec

__all__ = ["PROJECT", "hookimpl", "hookspec"]

PROJECT = "jackfield"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def jackfield_provider() -> ProviderSpec:
    """Return the provider this plugin adds: its name, default base URL, models and options."""
    raise NotImplementedError


@hookspec(firstresult=True)
def jackfield_build_request(request: CompletionRequest, config: ProviderConfig) -> HttpRequest:
    """Translate a validated unified request into the HTTP request to send (no I/O here)."""
    raise NotImplementedError


@hookspec(firstresult=True)
def jackfield_parse_response(
    request: CompletionRequest, response: HttpResponse, transport: ProviderTransport
) -> AsyncIterator[Event]:
    """Translate a 2xx HTTP response into unified events, yielding each as it arrives."""
    raise NotImplementedError


@hookspec
def jackfield_emulator() -> Callable[[], Any]:
    """Return a factory of an aiohttp.web.Application that emulates this plugin's service."""
    raise NotImplementedError
