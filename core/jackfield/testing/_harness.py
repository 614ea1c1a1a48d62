"""Unit-testing a provider's hooks without a Registry: validated requests, resolved configs,
and the core's real transport to send a built request through and parse its reply."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

import attrs

from jackfield._settings.config import ProviderConfig, resolve_config
from jackfield._settings.limits import Limits, Timeouts
from jackfield._types.events import Event
from jackfield._types.requests import CompletionRequest, HttpRequest
from jackfield._types.specs import ProviderSpec

if TYPE_CHECKING:
    from aiohttp import web

    from jackfield._engine.registry import Registry
    from jackfield._http.response import HttpResponse
    from jackfield._http.transport import ProviderTransport, Transport
    from jackfield.testing._emulation import EmulatorStats

__all__ = ["Emulator", "ProviderHarness", "RegistryFactory", "ServeApp", "make_config",
           "make_request"]

ServeApp = Callable[["web.Application"], Awaitable[str]]
RegistryFactory = Callable[..., "Registry"]


def make_request(spec: ProviderSpec, model: str | None = None, messages: Any = "hi", *,
                 stream: bool = False, strict: bool = False, **params: Any) -> CompletionRequest:
    """Return the request the core would hand a plugin for this call, prepared as a
    Registry prepares it (alias resolved, messages and parameters checked, fitted to the
    model's declared capabilities).

    `model` is an id or alias of `spec` (its default model when omitted). `params` are
    complete()'s keyword arguments: its own parameters (temperature, stop, tools,
    response_format, ...) and the provider's options. As in a real call, `request.params`
    holds what this model is sent (what its Capabilities do not honour is left out, and
    `stop` is left to the core when the model cannot stop), and `request.options` the
    provider's options with their defaults filled in. A call the model cannot serve raises
    the error complete() would (a CapabilityError for tools on a model without them, say);
    strict=True refuses what would otherwise be a warning, as Registry(strict=True) does.
    """
    from jackfield._engine.preparing import prepare
    from jackfield._engine.routing import Candidate
    from jackfield._types.specs import ModelInfo

    name = model if model is not None else spec.default_model or spec.models[0].id
    model_spec = spec.model(spec.aliases.get(name, name))

    def listed() -> list[ModelInfo]:
        return [ModelInfo(m.id, spec.name, m.kind, available=m.available,
                          capabilities=m.capabilities) for m in spec.models]

    prepared = prepare([Candidate(spec, model_spec)], messages, stream, params,
                       configs={spec.name: make_config(spec)}, prompted=frozenset(),
                       strict=strict, models=listed)
    request = prepared.calls[0].request
    assert isinstance(request, CompletionRequest)  # prepare() makes nothing else
    return request


def make_config(spec: ProviderSpec, **settings: str | None) -> ProviderConfig:
    """Return the configuration the registry would resolve for these settings.

    `base_url=` and the spec's declared settings are accepted; None leaves one unset. The
    environment is not read, so a developer's own credentials never reach a test.
    """
    explicit = {name: value for name, value in settings.items() if value is not None}
    return resolve_config(spec, explicit, {})


@attrs.define
class Emulator:
    """A running emulator: its base URL, its app and what it has seen (requests, headers)."""

    url: str
    app: web.Application

    @property
    def stats(self) -> EmulatorStats:
        """Return the request statistics the emulator's stats middleware keeps."""
        from jackfield.testing._emulation import STATS_KEY

        return self.app[STATS_KEY]


class ProviderHarness:
    """The core's own transport (pooling, limits, typed HTTP errors) without a Registry.

    `events = await harness.events(plugin, request, config)` runs the plugin's build hook,
    sends the request and collects what its parse hook yields. Close it (`async with`).
    """

    def __init__(self, *, timeouts: Timeouts | None = None, limits: Limits | None = None) -> None:
        from jackfield._http.transport import Transport

        self._transport: Transport = Transport(
            timeouts=timeouts or Timeouts(connect=5, read_idle=5, total=60),
            limits=limits or Limits())

    async def send(self, provider: str, request: HttpRequest) -> HttpResponse:
        """Send a built request; return the 2xx response or raise the typed error."""
        return await self._transport.send(provider, request)

    def for_provider(self, provider: str, base_url: str | None = None,
                     download_hosts: tuple[str, ...] = ()) -> ProviderTransport:
        """Return the transport slice a parse hook receives (for follow-up downloads).

        With base_url, downloads obey the same policy as in a registry (base_url's origin
        and download_hosts only, no internal addresses unless base_url is one); without it
        they are not checked, for tests whose replies are mocked.
        """
        from jackfield._http.transport import ProviderTransport

        return ProviderTransport(self._transport, provider, None, None, base_url=base_url,
                                 download_hosts=download_hosts, check_hosts=base_url is not None)

    async def events(self, plugin: Any, request: CompletionRequest,
                     config: ProviderConfig) -> list[Event]:
        """Build with the plugin's hook, send, and return every event its parser yields."""
        built = plugin.jackfield_build_request(request=request, config=config)
        if not isinstance(built, HttpRequest):
            raise TypeError(f"jackfield_build_request returned {type(built).__name__}")
        response = await self.send(request.provider, built)
        try:
            parsed = plugin.jackfield_parse_response(
                request=request, response=response,
                transport=self.for_provider(request.provider, config.base_url))
            return [event async for event in parsed]
        finally:
            response.release()

    async def aclose(self) -> None:
        """Close the session and its pooled connections."""
        await self._transport.aclose()

    async def __aenter__(self) -> ProviderHarness:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()
