"""The Registry: discovers plugins, lists models, routes calls and owns the HTTP transport."""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, overload

from jackfield._engine.arguments import call_input, call_timeouts, plugin_list
from jackfield._engine.assembly import assemble, emulators
from jackfield._engine.completion import Completion, CompletionStream, collect, collect_many
from jackfield._engine.discovery import INSTALL_ADVICE, PluginRecord, install_hint
from jackfield._engine.health import CooldownPolicy, HealthBook, ProviderHealth
from jackfield._engine.model_book import DiscoveryPolicy, ModelBook
from jackfield._engine.probe_book import ProbeBook, ProbePolicy, ProbeReport, noted
from jackfield._engine.refreshing import Refresher
from jackfield._engine.routing import Candidate, Router
from jackfield._errors import (
    ConfigurationError,
    InvalidRequestError,
    JackfieldError,
    ModelUnavailableError,
    UnknownModelError,
)
from jackfield._settings.config import ProviderConfig
from jackfield._settings.configfile import check_proxy, gather
from jackfield._settings.limits import Limits, RetryPolicy, Timeouts
from jackfield._types.messages import MessageInput
from jackfield._types.specs import KINDS, Kind, ModelInfo, ProviderSpec

if TYPE_CHECKING:
    import pluggy

    from jackfield._engine.dispatch import Caller
    from jackfield._engine.embedding import Embeddings
    from jackfield._engine.preparing import Prepared
    from jackfield._http.transport import Transport

__all__ = ["Registry"]

log = logging.getLogger("jackfield")


class Registry:
    """Every installed provider behind one call: `await registry.complete(model, messages)`."""

    def __init__(
        self,
        plugins: Iterable[object] | None = None,
        *,
        config: Mapping[str, Mapping[str, Any]] | None = None,
        environ: Mapping[str, str] | None = None,
        config_file: str | os.PathLike[str] | None = None,
        timeouts: Timeouts | None = None,
        limits: Limits | None = None,
        retry: RetryPolicy | None = None,
        proxy: str | None = None,
        provider_order: Iterable[str] | None = None,
        cooldown: CooldownPolicy | None = None,
        routes: Mapping[str, Sequence[str]] | None = None,
        strict: bool = False,
        prompted: bool | Iterable[str] | Mapping[str, Any] = False,
        discovery: DiscoveryPolicy | None = None,
        probes: ProbePolicy | None = None,
    ) -> None:
        """Build a registry of every installed plugin, or (plugins=[...]) of exactly those.

        Each setting is taken from the first of: these keyword arguments, the environment
        (`environ`, default os.environ; JACKFIELD_<PROVIDER>_<SETTING>, JACKFIELD_ROUTES,
        JACKFIELD_LOAD_PLUGINS), the keys file (`jackfield keys path`), the TOML file
        `config_file` (default: $JACKFIELD_CONFIG), the plugin's default. `environ={}` reads
        no environment and no keys file at all.

        strict=True refuses, before any I/O, what a call asks for but a model would not be
        sent (each would otherwise be a `Completion.warnings` entry). prompted= describes
        tools and/or JSON schemas in the prompt for models without native support: True,
        some of "tools" and "json", or a mapping of model name ("provider/model", model id,
        provider, "*") to those; a call's own prompted= wins. Off by default.

        config= (and the file's [providers.NAME] tables) may declare named instances of a
        plugin: {"local-vllm": {"plugin": "openai", "base_url": ...}}, each a provider of
        its own; any provider's table may hold `models` (an allow-list) and `headers`.
        discovery= sets how long the models a service lists are kept (DiscoveryPolicy);
        probes=ProbePolicy(skip_failing=True) skips models whose last probe() failed.
        """
        self._environ = os.environ if environ is None else environ
        settings = gather(self._environ, config_file, timeouts=timeouts, limits=limits,
                          retry=retry, cooldown=cooldown, proxy=proxy,
                          provider_order=provider_order, routes=routes, discovery=discovery,
                          probes=probes)
        built = assemble(plugin_list(plugins), self._environ, settings, config,
                         real_environ=environ is None)
        self._plugins = built.plugins
        self._configs = built.configs
        self._book = ModelBook(built.plugins.providers, built.configs, built.discovering,
                               settings.discovery)
        self._order, self._groups, self._passing = (settings.provider_order, settings.routes,
                                                    built.passing)
        self._router = self._new_router()
        self.timeouts = settings.timeouts
        self.limits = settings.limits
        self.retry = settings.retry
        self.proxy = settings.proxy
        self.discovery = settings.discovery
        self._health = HealthBook(settings.cooldown)
        self._probes = ProbeBook(settings.probes, self._environ, real=environ is None)
        self._refresher = Refresher(self._book, built.plugins.providers, built.configs,
                                    self.timeouts, self._get_caller, lambda: self._router,
                                    self._rebuild)
        if not isinstance(strict, bool):
            raise ConfigurationError(f"strict= must be True or False, got {strict!r}.")
        self.strict = strict
        from jackfield._engine.params import prompted_setting

        self._prompted = prompted_setting(prompted, "prompted=")
        self._transport: Transport | None = None
        self._caller: Caller | None = None

    def _new_router(self) -> Router:
        return Router(self._book.specs(), self._order, self._groups, passing=self._passing,
                      discovering=self._book.discovering)

    def _rebuild(self) -> None:
        self._router = self._new_router()  # a service's list changed

    @classmethod
    def discover(cls, **kwargs: Any) -> Registry:
        """Build a registry from every installed plugin: the same as Registry(**kwargs)."""
        return cls(**kwargs)

    @classmethod
    def from_config_file(cls, path: str | os.PathLike[str], **kwargs: Any) -> Registry:
        """The same as Registry(config_file=path, **kwargs)."""
        return cls(config_file=path, **kwargs)

    # -- listing -----------------------------------------------------------------------------

    @property
    def plugin_manager(self) -> pluggy.PluginManager:
        """Return the pluggy PluginManager (to register hook wrappers, say)."""
        return self._plugins.manager

    def plugins(self) -> list[PluginRecord]:
        """Return every plugin found: name, version, hooks, model count and load error."""
        return list(self._plugins.records)

    def providers(self) -> list[ProviderSpec]:
        """Return the providers in routing order."""
        return self._router.providers

    def routes(self) -> dict[str, tuple[str, ...]]:
        """Return the configured route groups (name -> model names tried in turn)."""
        return self._router.groups

    def config(self, provider: str) -> ProviderConfig:
        """Return a provider's resolved configuration (secrets redacted in its repr)."""
        return self._configs[provider]

    def models(self, *, kind: Kind | None = None, provider: str | None = None,
               include_routes: bool = False) -> list[ModelInfo]:
        """Return every model known now (a service's last listing, else the plugin's own),
        optionally only of one kind or provider; include_routes=True adds each route group
        as a model of its own (provider "")."""
        if kind is not None and kind not in KINDS:
            raise InvalidRequestError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}.",
                                      param="kind")
        listed = self._router.models() + (self._router.route_models() if include_routes
                                          and provider is None else [])
        return [m for m in listed if kind in (None, m.kind) and provider in (None, m.provider)]

    async def refresh_models(self, provider: str | None = None, *, stale_only: bool = False,
                             include_routes: bool = False) -> list[ModelInfo]:
        """Ask the services that list their models (one provider, or all) now, and return
        every model; stale_only=True asks only those whose list is older than
        DiscoveryPolicy.ttl. A service that fails keeps its last list (see
        discovery_warnings()): this never raises for a service's failure."""
        names = self._refresher.names(provider, stale_only)
        if names:
            await self._refresher.refresh(names)
        return self.models(include_routes=include_routes)

    def discovery_warnings(self) -> dict[str, str]:
        """Return provider (or route) -> why its listed models may be out of date or
        incomplete: a service that could not be listed, an allow-list naming what a service
        lacks, a route member no provider lists once every service was asked."""
        return {**self._book.warnings(), **self._router.unlisted_members(self._book.all_asked())}

    def resolve(self, model: str, kind: Kind = "chat") -> list[Candidate]:
        """Return the providers that would serve model, in the order they would be tried
        (kind: what an unlisted id pinned to a pass-through provider is sent as)."""
        if not isinstance(model, str) or not model:
            raise InvalidRequestError(f"model must be a non-empty string, got {model!r}.")
        if kind not in KINDS:
            raise InvalidRequestError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}.",
                                      param="kind")
        try:
            return self._router.resolve(model, kind)
        except ModelUnavailableError:
            raise
        except UnknownModelError as error:
            loaded = self._plugins.providers
            hint = install_hint(model, loaded) or (
                None if loaded else f"no provider plugin is loaded; {INSTALL_ADVICE}")
            if hint is None:
                raise
            raise UnknownModelError(model, error.suggestions,
                                    detail=f"Unknown model {model!r}: {hint}") from None

    def health(self) -> dict[str, ProviderHealth]:
        """Return each provider's recent successes, failures, last error and cooldown."""
        return self._health.snapshot([spec.name for spec in self.providers()])

    async def probe(self, models: Sequence[str] = (), *, budget: int = 20, rate: float = 2.0,
                    timeout: float = 15.0, images: bool = False) -> ProbeReport:
        """Send one minimal real request per model (every model, a provider's, or those a
        name resolves to), at most budget of them, rate a second; keep and return what each
        got (jackfield._engine.probes says what is sent, and what is not)."""
        from jackfield._engine.probes import run_probes

        return await run_probes(self, models, budget=budget, rate=rate, timeout=timeout,
                                images=images)

    def emulators(self) -> dict[str, Any]:
        """Return provider name -> emulator app factory, for plugins that ship one."""
        return emulators(self._plugins)

    # -- calling -----------------------------------------------------------------------------

    def _prepare(self, model: str, messages: Any, stream: bool,
                 options: Mapping[str, Any]) -> Prepared:
        """Validate everything before any I/O; return one call per candidate provider."""
        prepare = _preparer()
        candidates, skipped = self._probes.skip(model, self.resolve(model))
        usable = [c for c in candidates if c.model.kind != "embedding"]
        if not usable:
            raise InvalidRequestError(f"{model!r} is an embedding model: use "
                                      "registry.embed(model, inputs) for it.", param="model")
        return noted(prepare(usable, messages, stream, options, configs=self._configs,
                             prompted=self._prompted, strict=self.strict, models=self.models),
                     skipped)

    def _get_caller(self) -> Caller:
        if self._caller is None:
            from jackfield._engine.dispatch import Caller
            from jackfield._http.transport import Transport

            self._transport = Transport(timeouts=self.timeouts, limits=self.limits,
                                        proxy=self.proxy)
            self._caller = Caller(self._plugins.manager, self._plugins.owners,
                                  self._transport, self.retry, self._health,
                                  self._book.expire)
        return self._caller

    @overload
    async def complete(self, model: str, messages: Any, *, stream: Literal[False] = False,
                       timeout: float | Timeouts | None = None, proxy: str | None = None,
                       **options: Any) -> Completion: ...

    @overload
    async def complete(self, model: str, messages: Any, *, stream: Literal[True],
                       timeout: float | Timeouts | None = None, proxy: str | None = None,
                       **options: Any) -> CompletionStream: ...

    async def complete(self, model: str, messages: Any, *, stream: bool = False,
                       timeout: float | Timeouts | None = None, proxy: str | None = None,
                       **options: Any) -> Completion | CompletionStream:
        """Run one chat or image call; stream=True returns chunks as they arrive."""
        began = time.perf_counter()  # the observers' clock of the core's own work
        if not isinstance(stream, bool):
            raise InvalidRequestError(f"stream must be True or False, got {stream!r}.")
        if proxy is not None:
            check_proxy(proxy, "proxy=")
        timeouts = call_timeouts(self.timeouts, timeout)
        if self._book.discovering:
            await self._refresher.before_call(
                model, lambda: call_input(messages, stream, options))
        prepared = self._prepare(model, messages, stream, options)
        caller = self._get_caller()
        if stream:
            return CompletionStream(caller.run(model, prepared.calls, stream=True,
                                               timeouts=timeouts, proxy=proxy, began=began))
        if prepared.n == 1:
            completion: Completion = await collect(caller.run(
                model, prepared.calls, stream=False, timeouts=timeouts, proxy=proxy,
                began=began))
            return completion
        # n replies are n calls, run side by side; each routes and falls back on its own.
        return await collect_many([caller.run(model, prepared.calls, stream=False,
                                              timeouts=timeouts, proxy=proxy, began=began)
                                   for _ in range(prepared.n)])

    async def embed(self, model: str, inputs: str | Sequence[str], *,
                    dimensions: int | None = None, timeout: float | Timeouts | None = None,
                    proxy: str | None = None, **options: Any) -> Embeddings:
        """Embed one text or a list of texts; return one vector per input, in order."""
        from jackfield._engine import embedding

        began = time.perf_counter()
        if proxy is not None:
            check_proxy(proxy, "proxy=")
        # Checked before any I/O, the discovery a call may need included.
        texts, size = embedding.embedding_inputs(inputs), embedding.embedding_dimensions(dimensions)
        timeouts = call_timeouts(self.timeouts, timeout)
        if self._book.discovering:
            await self._refresher.before_call(model)
        calls = embedding.prepare_embedding(self.resolve(model, "embedding"), model, texts, size,
                                            options, configs=self._configs,
                                            models=self.models(kind="embedding"))
        events = self._get_caller().run(model, calls, stream=False, timeouts=timeouts,
                                        proxy=proxy, began=began)
        return await embedding.collect_embeddings(events, len(texts), size)

    def complete_sync(self, model: str, messages: Iterable[MessageInput] | str,
                      **kwargs: Any) -> Completion:
        """Blocking form of complete() for scripts; not usable inside a running event loop."""
        import asyncio  # here, not at the top: listing models must not pay for asyncio

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass  # no loop running: the one case in which blocking is allowed
        else:
            raise JackfieldError(
                "complete_sync() cannot run inside a running event loop; "
                "use `await registry.complete(...)` instead."
            )
        if kwargs.pop("stream", False):
            raise InvalidRequestError("complete_sync() does not stream; use complete(stream=True).")

        async def once() -> Completion:
            try:
                return await self.complete(model, messages, stream=False, **kwargs)
            finally:
                await self.aclose()  # the session belongs to this short-lived loop

        return asyncio.run(once())

    async def aclose(self) -> None:
        """Close the HTTP session; the registry opens a new one if used again."""
        if self._caller is not None:
            await self._caller.observers.aclose()  # they see every call made so far
        if self._transport is not None:
            await self._transport.aclose()
        self._transport = None
        self._caller = None

    async def __aenter__(self) -> Registry:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<Registry providers={[p.name for p in self.providers()]}>"


@functools.cache
def _preparer() -> Callable[..., Prepared]:
    """Return jackfield._engine.preparing.prepare, imported on the first call: the module
    loads the HTTP stack, which listing models must not pay for; an import statement in
    _prepare() would cost every call 0.7 µs (bench/CHANGES.md, issue 16)."""
    from jackfield._engine.preparing import prepare

    return prepare
