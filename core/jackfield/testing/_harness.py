"""Unit-testing a provider's hooks without a Registry: validated requests, resolved configs,
and the core's real transport to send a built request through and parse its reply."""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import attrs

from jackfield._settings.config import ProviderConfig, resolve_config
from jackfield._settings.limits import Limits, Timeouts
from jackfield._types.events import Event
from jackfield._types.requests import (
    CompletionRequest,
    EmbeddingRequest,
    HttpRequest,
    ProviderRequest,
)
from jackfield._types.specs import ModelSpec, ProviderSpec

if TYPE_CHECKING:
    from aiohttp import web

    from jackfield._engine.registry import Registry
    from jackfield._errors import JackfieldError
    from jackfield._http.error_reply import ErrorReply
    from jackfield._http.response import HttpResponse
    from jackfield._http.transport import ProviderTransport, Transport
    from jackfield.testing._emulation import EmulatorStats

__all__ = ["Emulator", "ProviderHarness", "RegistryFactory", "ServeApp", "make_config",
           "make_embedding_request", "make_error_reply", "make_request"]

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


def make_embedding_request(spec: ProviderSpec, inputs: str | Sequence[str],
                           model: str | None = None, dimensions: int | None = None,
                           **options: Any) -> EmbeddingRequest:
    """Return the EmbeddingRequest the core would hand a plugin for `registry.embed()`.

    `model` is an id or alias of one of spec's embedding models (its first one when
    omitted), or, for a `pass_through` provider, any id (sent with
    `pass_through_capabilities`). `inputs`, `dimensions` and `options` are checked as
    embed() checks them: a bad one raises the InvalidRequestError a caller would get.
    """
    from jackfield._engine.embedding import prepare_embedding
    from jackfield._engine.routing import Candidate

    if model is None:
        found = [m.id for m in spec.models if m.kind == "embedding"]
        if not found:
            raise ValueError(f"provider {spec.name!r} lists no embedding model: name one")
        model = found[0]
    target = spec.aliases.get(model, model)
    known = {m.id: m for m in spec.models}
    if target not in known and not spec.pass_through:
        raise ValueError(f"provider {spec.name!r} has no model {model!r} and does not pass "
                         f"unlisted ids through; its models: {', '.join(known) or 'none'}")
    chosen = known.get(target) or spec.unlisted(target, "embedding")
    [call] = prepare_embedding([Candidate(spec, chosen)], model, inputs, dimensions, options,
                               configs={spec.name: make_config(spec)}, models=[])
    request = call.request
    assert isinstance(request, EmbeddingRequest)  # prepare_embedding makes nothing else
    return request


def make_error_reply(provider: ProviderSpec | str, status: int,
                     body: bytes | str | Mapping[str, Any] = b"", *,
                     headers: Mapping[str, str] | None = None,
                     model: str | None = None) -> ErrorReply:
    """Return the ErrorReply a plugin's `jackfield_error_reply` gets for a non-2xx reply,
    without a server: to test the hook on its own.

    A mapping body is sent as JSON (with its Content-Type); `reply.default` is the error
    the core's status mapping makes of it. `model` is the model id the request was for
    (None: a discovery request).
    """
    from jackfield._http.error_reply import ErrorReply
    from jackfield._http.statuses import error_for_status

    name = provider.name if isinstance(provider, ProviderSpec) else provider
    sent = dict(headers or {})
    if isinstance(body, Mapping):
        body = json.dumps(body).encode()
        sent.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        body = body.encode()
    default = error_for_status(name, status, headers=sent, body=body)
    return ErrorReply(name, status, sent, body, default, model)


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

    async def events(self, plugin: Any, request: ProviderRequest,
                     config: ProviderConfig) -> list[Event]:
        """Build with the plugin's hook, send, and return every event its parser yields.

        A chat request (`make_request`) or an embedding one (`make_embedding_request`); an
        error reply goes through the plugin's `jackfield_error_reply`, if it has one, as
        in a registry, and raises the error it returns (or the core's own).
        """
        built = _call(plugin.jackfield_build_request, request=request, config=config)
        if not isinstance(built, HttpRequest):
            raise TypeError(f"jackfield_build_request returned {type(built).__name__}")
        if config.headers:
            from jackfield._http.transport import merged_headers

            built = attrs.evolve(built, headers=merged_headers(built.headers, config.headers))
        response = await self._transport.send(request.provider, built, model=request.model.id,
                                              error_hook=_error_hook(plugin, request))
        try:
            parsed = _call(plugin.jackfield_parse_response, request=request, response=response,
                           transport=self.for_provider(request.provider, config.base_url))
            return [event async for event in parsed]
        finally:
            response.release()

    async def discover(self, plugin: Any, spec: ProviderSpec, config: ProviderConfig, *,
                       timeout: float = 10.0) -> Sequence[ModelSpec] | None:
        """Run the plugin's `jackfield_discover_models` as a registry does: with the
        transport slice it gets (`fetch_json` to its own origin, the configured headers,
        its error hook for non-2xx replies) within the discovery timeout. Errors are raised
        here, a timeout as ProviderTimeoutError (a registry turns them into
        `discovery_warnings()`)."""
        import asyncio

        from jackfield._http.transport import ProviderTransport

        timeouts = Timeouts(connect=timeout, read_idle=timeout, total=timeout)
        transport = ProviderTransport(self._transport, spec.name, timeouts, None,
                                      base_url=config.base_url,
                                      download_hosts=spec.download_hosts,
                                      headers=config.headers,
                                      error_hook=_error_hook(plugin, None))
        found = _call(plugin.jackfield_discover_models, provider=spec, config=config,
                      transport=transport)
        if inspect.isawaitable(found):
            try:
                async with asyncio.timeout(timeout):  # not wait_for: it may lose a cancel
                    found = await found
            except TimeoutError as error:  # the hook's own waiting, beyond the transport's
                from jackfield._errors import ProviderTimeoutError

                raise ProviderTimeoutError(spec.name, f"no answer within the discovery "
                                                      f"timeout of {timeout:g} s") from error
        result: Sequence[ModelSpec] | None = found
        return result

    async def aclose(self) -> None:
        """Close the session and its pooled connections."""
        await self._transport.aclose()

    async def __aenter__(self) -> ProviderHarness:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()


def _call(hook: Callable[..., Any], **kwargs: Any) -> Any:
    """Call a hook implementation with the arguments it accepts, as pluggy does."""
    accepted = inspect.signature(hook).parameters
    return hook(**{name: value for name, value in kwargs.items() if name in accepted})


def _error_hook(plugin: Any, request: ProviderRequest | None,
                ) -> Callable[[ErrorReply], JackfieldError | None] | None:
    hook = getattr(plugin, "jackfield_error_reply", None)
    if hook is None:
        return None

    def interpret(reply: ErrorReply) -> JackfieldError | None:
        answer: JackfieldError | None = _call(hook, request=request, reply=reply)
        return answer

    return interpret
