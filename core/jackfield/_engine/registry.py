"""The Registry: discovers plugins, lists models, routes calls and owns the HTTP transport."""

from __future__ import annotations

import logging
import os
import types
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, overload

from jackfield._engine.completion import Completion, CompletionStream, collect, collect_many
from jackfield._engine.discovery import (
    INSTALL_ADVICE,
    PluginRecord,
    install_hint,
    installed_providers,
    load_plugins,
)
from jackfield._engine.health import CooldownPolicy, HealthBook, ProviderHealth
from jackfield._engine.routing import Candidate, Router
from jackfield._errors import (
    ConfigurationError,
    InvalidRequestError,
    JackfieldError,
    ModelUnavailableError,
    PluginError,
    UnknownModelError,
)
from jackfield._settings.checks import MAX_SECONDS, shown_value
from jackfield._settings.config import ProviderConfig, resolve_config
from jackfield._settings.configfile import check_proxy, gather
from jackfield._settings.limits import Limits, RetryPolicy, Timeouts
from jackfield._settings.userfiles import keys_path, read_keys
from jackfield._types.messages import MessageInput
from jackfield._types.specs import Kind, ModelInfo, ProviderSpec

if TYPE_CHECKING:
    import pluggy

    from jackfield._engine.dispatch import Caller
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
        """
        self._environ = os.environ if environ is None else environ
        settings = gather(self._environ, config_file, timeouts=timeouts, limits=limits,
                          retry=retry, cooldown=cooldown, proxy=proxy,
                          provider_order=provider_order, routes=routes)
        self._plugins = load_plugins(_plugin_list(plugins), self._environ)
        config = self._checked_config(config)
        from_file = settings.order_source != "provider_order="
        self._check_providers(settings.provider_order, settings.order_source, shared=from_file)
        self._check_providers(settings.file_config, f"{settings.file}: [providers]", shared=True)
        self._router = Router(self._plugins.providers, settings.provider_order, settings.routes)
        # The keys file (`jackfield keys set`) sits between the environment and the config
        # file; keys of providers not loaded here are kept for them, not refused.
        keys_file = keys_path(self._environ, real=environ is None)
        keys = read_keys(keys_file)
        self._configs = {
            name: resolve_config(spec, config.get(name), self._environ,
                                 settings.file_config.get(name), settings.file,
                                 key_values=keys.get(name), keys_file=str(keys_file))
            for name, spec in self._plugins.providers.items()
        }
        self.timeouts = settings.timeouts
        self.limits = settings.limits
        self.retry = settings.retry
        self.proxy = settings.proxy
        self._health = HealthBook(settings.cooldown)
        if not isinstance(strict, bool):
            raise ConfigurationError(f"strict= must be True or False, got {strict!r}.")
        self.strict = strict
        from jackfield._engine.params import prompted_setting

        self._prompted = prompted_setting(prompted, "prompted=")
        self._transport: Transport | None = None
        self._caller: Caller | None = None

    def _checked_config(self, config: Any) -> dict[str, Mapping[str, Any]]:
        if config is None:
            return {}
        if not isinstance(config, Mapping) or not all(
                isinstance(values, Mapping) for values in config.values()):
            raise ConfigurationError(
                "config= must map a provider name to its settings, e.g. "
                f"{{'aichats': {{'base_url': 'http://127.0.0.1:8001'}}}}, got {type(config)}.")
        self._check_providers(config, "config=")
        return dict(config)

    def _check_providers(self, names: Iterable[str], source: str, *, shared: bool = False,
                         ) -> None:
        """Refuse settings for a provider that is not loaded: they would be silently unused.

        A config file is shared by every program that reads it: there, a provider that is
        installed but not loaded here (plugins=[...], JACKFIELD_LOAD_PLUGINS) is no mistake.
        """
        loaded = self._plugins.providers
        unknown = set(names) - set(loaded)
        if unknown and shared:
            unknown -= installed_providers()
        if unknown:
            raise ConfigurationError(
                f"{source} names unknown provider(s) {', '.join(sorted(unknown))}; loaded "
                "providers: "
                + (', '.join(sorted(loaded)) if loaded else f"none ({INSTALL_ADVICE})") + ".")

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

    def models(self, *, kind: Kind | None = None, provider: str | None = None) -> list[ModelInfo]:
        """Return every model, optionally only of one kind or provider."""
        return [m for m in self._router.models()
                if kind in (None, m.kind) and provider in (None, m.provider)]

    def resolve(self, model: str) -> list[Candidate]:
        """Return the providers that would serve model, in the order they would be tried."""
        if not isinstance(model, str) or not model:
            raise InvalidRequestError(f"model must be a non-empty string, got {model!r}.")
        try:
            return self._router.resolve(model)
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

    def emulators(self) -> dict[str, Any]:
        """Return provider name -> emulator app factory, for plugins that ship one."""
        result: dict[str, Any] = {}
        impls = self._plugins.manager.hook.jackfield_emulator.get_hookimpls()
        for name, owner in self._plugins.owners.items():
            for impl in impls:
                if impl.plugin is not owner:
                    continue
                try:
                    result[name] = impl.function()
                # A broken emulator hook must not hide the other plugins' emulators.
                except Exception as error:  # noqa: BLE001
                    log.warning("%s", PluginError(name, "jackfield_emulator",
                                                  f"{type(error).__name__}: {error}"))
        return result

    # -- calling -----------------------------------------------------------------------------

    def _prepare(self, model: str, messages: Any, stream: bool,
                 options: Mapping[str, Any]) -> Prepared:
        """Validate everything before any I/O; return one call per candidate provider."""
        from jackfield._engine.preparing import prepare

        return prepare(self.resolve(model), messages, stream, options, configs=self._configs,
                       prompted=self._prompted, strict=self.strict, models=self.models)

    def _call_timeouts(self, timeout: float | Timeouts | None) -> Timeouts | None:
        if timeout is None or isinstance(timeout, Timeouts):
            return timeout
        if (not isinstance(timeout, int | float) or isinstance(timeout, bool)
                or not 0 < timeout <= MAX_SECONDS):
            # nan compares false both ways: refused here, as inf and 10**400 are.
            raise InvalidRequestError(
                f"timeout must be a number of seconds above 0 and at most {MAX_SECONDS:g} "
                f"(or a jackfield.Timeouts), got {shown_value(timeout)}.")
        base = self.timeouts
        return Timeouts(connect=min(base.connect, timeout), read_idle=min(base.read_idle, timeout),
                        total=float(timeout))

    def _get_caller(self) -> Caller:
        if self._caller is None:
            from jackfield._engine.dispatch import Caller
            from jackfield._http.transport import Transport

            self._transport = Transport(timeouts=self.timeouts, limits=self.limits,
                                        proxy=self.proxy)
            self._caller = Caller(self._plugins.manager, self._plugins.owners,
                                  self._transport, self.retry, self._health)
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
        if not isinstance(stream, bool):
            raise InvalidRequestError(f"stream must be True or False, got {stream!r}.")
        if proxy is not None:
            check_proxy(proxy, "proxy=")
        prepared = self._prepare(model, messages, stream, options)
        timeouts = self._call_timeouts(timeout)
        caller = self._get_caller()
        if stream:
            return CompletionStream(caller.run(model, prepared.calls, stream=True,
                                               timeouts=timeouts, proxy=proxy))
        if prepared.n == 1:
            completion: Completion = await collect(caller.run(
                model, prepared.calls, stream=False, timeouts=timeouts, proxy=proxy))
            return completion
        # n replies are n calls, run side by side; each routes and falls back on its own.
        return await collect_many([caller.run(model, prepared.calls, stream=False,
                                              timeouts=timeouts, proxy=proxy)
                                   for _ in range(prepared.n)])

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


def _plugin_list(plugins: Iterable[object] | None) -> list[object] | None:
    if plugins is None:
        return None
    # One module is not a list of them: iterating it would fail far from the mistake.
    if isinstance(plugins, str | types.ModuleType) or not isinstance(plugins, Iterable):
        raise ConfigurationError(f"plugins= must be a list of plugin modules or objects, e.g. "
                                 f"plugins=[jackfield_aichats], got {plugins!r}.")
    return list(plugins)
