"""One conformance case's world: a fresh emulator on loopback whose every request is recorded,
a registry over the plugin alone (fast retries, a short read-idle timeout, a distinctive
value for each secret setting), the models it lists, and the errors the case met (for the
secret checks)."""

from __future__ import annotations

import asyncio
import inspect
import json
import secrets
from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack
from types import TracebackType
from typing import TYPE_CHECKING, Any

import attrs
from aiohttp import web

from jackfield._settings.limits import RetryPolicy, Timeouts
from jackfield._types.specs import ModelInfo, ModelSpec, ProviderSpec
from jackfield.testing._emulation import FAULTS_KEY, STATS_KEY, EmulatorStats, Faults, serve_app

if TYPE_CHECKING:
    from jackfield._engine.completion import Completion
    from jackfield._engine.registry import Registry

__all__ = ["ATTEMPTS", "READ_IDLE", "Case", "Conformance", "Env", "Failed", "Recorded", "Skipped",
           "call_hook"]

ATTEMPTS = 3
READ_IDLE = 0.5  # the stall case waits this long; well above a loopback reply's gaps
RETRY = RetryPolicy(attempts=ATTEMPTS, backoff=0.01, max_backoff=0.02, jitter=False)


class Failed(AssertionError):
    """The plugin broke a rule of the case: the message says which, and what to do."""


class Skipped(Exception):
    """The case does not apply to this plugin (or its emulator): the message says why."""


@attrs.frozen
class Conformance:
    """What the conformance kit needs to know of a plugin beyond its own hooks.

    `plugin` is the module (or object) holding the hooks, as passed to `Registry([...])`.
    `create_app` builds its emulator (default: the factory its `jackfield_emulator` hook
    returns); the app must come from `jackfield.testing.new_app()`, which counts requests
    and injects faults. `settings` go to the provider's config as a user's would (by default
    every secret setting gets a distinctive stand-in, which the secret checks look for: an
    emulator built by its factory's defaults accepts any credential). `skip` maps a case id,
    or the start of one ("fault/drop_mid_stream"), to the reason it cannot apply.
    """

    plugin: Any
    create_app: Callable[[], web.Application] | None = None
    settings: Mapping[str, str] = attrs.field(factory=dict, converter=dict)
    skip: Mapping[str, str] = attrs.field(factory=dict, converter=dict)

    @property
    def spec(self) -> ProviderSpec:
        """Return what the plugin's jackfield_provider hook declares."""
        spec = call_hook(self.plugin, "jackfield_provider")
        if not isinstance(spec, ProviderSpec):
            raise Failed(f"jackfield_provider returned {type(spec).__name__}, not a "
                         "ProviderSpec")
        return spec

    def app_factory(self) -> Callable[[], web.Application] | None:
        """Return the emulator factory: the declared one, else the plugin's hook's, else None."""
        if self.create_app is not None:
            return self.create_app
        if getattr(self.plugin, "jackfield_emulator", None) is None:
            return None
        factory: Callable[[], web.Application] = call_hook(self.plugin, "jackfield_emulator")
        return factory

    def skipped(self, case_id: str) -> str | None:
        """Return the author's reason to skip case_id, if one was declared."""
        for start, reason in self.skip.items():
            if case_id == start or case_id.startswith(start.rstrip("/") + "/"):
                return reason
        return None


def call_hook(plugin: Any, name: str, **kwargs: Any) -> Any:
    """Call one hook implementation of plugin with the arguments it accepts, as pluggy does."""
    hook = getattr(plugin, name)
    accepted = inspect.signature(hook).parameters
    return hook(**{key: value for key, value in kwargs.items() if key in accepted})


@attrs.frozen
class Recorded:
    """One request the emulator got: method, path, body and whether faults applied to it."""

    method: str
    path: str
    body: bytes
    protocol: bool

    def text(self) -> str:
        """Return the body as text, JSON string escapes undone (so "é" is found as "é")."""
        decoded = self.body.decode("utf-8", "replace")
        try:
            return json.dumps(json.loads(decoded), ensure_ascii=False)
        except ValueError:
            return decoded


_RECORD_KEY = web.AppKey("jackfield_conformance_requests", list)
_PAUSE_KEY = web.AppKey("jackfield_conformance_write_pause", list)


@web.middleware
async def _record(request: web.Request,
                  handler: Callable[[web.Request], Any]) -> web.StreamResponse:
    body = await request.read() if request.can_read_body else b""  # cached for the handler
    faults = request.app.get(FAULTS_KEY)
    protocol = faults.is_protocol_request(request) if faults is not None else True
    request.app[_RECORD_KEY].append(Recorded(request.method, request.path, body, protocol))
    response: web.StreamResponse = await handler(request)
    return response


async def _slow_writes(request: web.Request, response: web.StreamResponse) -> None:
    """Pause after each piece the emulator writes (when a case asks): a long reply then
    stays in flight on the emulator while the case leaves it early."""
    pause = request.app[_PAUSE_KEY][0]
    if not pause:
        return
    write = response.write

    async def slowly(data: bytes | bytearray | memoryview) -> None:
        await write(data)
        await asyncio.sleep(pause)

    response.write = slowly  # type: ignore[method-assign]  # this response only


class Env:
    """A case's emulator and registry (`async with Env(target) as env`)."""

    def __init__(self, target: Conformance) -> None:
        self.target = target
        self.spec = target.spec
        self.name = self.spec.name
        factory = target.app_factory()
        if factory is None:
            raise Skipped(f"plugin {self.name!r} ships no emulator (the jackfield_emulator "
                          "hook), and none was declared (Conformance(create_app=...))")
        self.app: web.Application = factory()
        if not isinstance(self.app, web.Application):
            raise Failed(f"the emulator factory returned {type(self.app).__name__}, not an "
                         "aiohttp.web.Application")
        self.app[_RECORD_KEY] = []
        self.app[_PAUSE_KEY] = [0.0]
        self.app.middlewares.insert(0, _record)
        self.app.on_response_prepare.append(_slow_writes)
        self.secrets = {name: f"jfconf-{name}-{secrets.token_hex(8)}"
                        for name, setting in self.spec.settings.items() if setting.secret}
        self.settings = {**self.secrets, **target.settings}
        self.errors: list[BaseException] = []  # what the case met, for the secret checks
        self.url = ""
        self._stack = AsyncExitStack()
        self._registry: Registry | None = None

    async def __aenter__(self) -> Env:
        self.url = await self._stack.enter_async_context(serve_app(self.app))
        self._registry = self.make_registry()
        await self.registry.refresh_models(self.name)
        problem = self.registry.discovery_warnings().get(self.name)
        if problem:
            raise Failed(f"listing the models from the emulator failed: {problem}")
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            await self._stack.aclose()
        finally:
            self._stack = AsyncExitStack()

    def make_registry(self, **kwargs: Any) -> Registry:
        """Return a registry over the plugin alone, pointed at the emulator, closed with Env."""
        from jackfield._engine.registry import Registry

        options: dict[str, Any] = {"retry": RETRY, "timeouts": Timeouts(read_idle=READ_IDLE),
                                   "environ": {}, **kwargs}
        registry = Registry([self.target.plugin],
                            config={self.name: {"base_url": self.url, **self.settings}},
                            **options)
        self._stack.push_async_callback(registry.aclose)
        return registry

    @property
    def registry(self) -> Registry:
        """Return the case's registry (made on entry)."""
        assert self._registry is not None, "use the Env in `async with`"
        return self._registry

    @property
    def stats(self) -> EmulatorStats:
        """Return what the emulator's stats middleware counted."""
        return self.app[STATS_KEY]

    @property
    def faults(self) -> Faults:
        """Return the emulator's fault controller (a Failed if it has none)."""
        faults = self.app.get(FAULTS_KEY)
        if faults is None:
            raise Failed("the emulator has no app[FAULTS_KEY]: build its app with "
                         "jackfield.testing.new_app(), which injects the faults of "
                         "docs/faults.md")
        return faults

    def slow_writes(self, pause: float) -> None:
        """Pause this long after each piece the emulator writes from now on (0: none)."""
        self.app[_PAUSE_KEY][0] = pause

    def mark(self) -> int:
        """Return a position in the request log: `since(mark)` is what came after it."""
        return len(self.app[_RECORD_KEY])

    def since(self, mark: int, *, protocol_only: bool = True) -> list[Recorded]:
        """Return the requests after mark (only those faults apply to, by default)."""
        return [r for r in self.app[_RECORD_KEY][mark:] if r.protocol or not protocol_only]

    def model(self, kind: str, where: Callable[[ModelInfo], bool] = lambda m: True,
              needs: str = "") -> ModelInfo:
        """Return the provider's default model of kind (else its first available one)
        for which where() holds; Skipped if there is none."""
        listed = [m for m in self.registry.models(provider=self.name)
                  if m.kind == kind and m.available and where(m)]
        if not listed:
            raise Skipped(f"no available {kind} model" + (f" {needs}" if needs else ""))
        return next((m for m in listed if m.default), listed[0])

    def model_spec(self, info: ModelInfo) -> ModelSpec:
        """Return the ModelSpec of a listed model: the plugin's own (with its `extra`) when
        it declares the id, else the one discovery made."""
        for spec in self.spec.models:
            if spec.id == info.id:
                return spec
        return ModelSpec(info.id, info.kind, available=info.available,
                         capabilities=info.capabilities)

    async def call(self, model: ModelInfo, messages: Any = "hi", *, stream: bool = False,
                   pieces: list[str] | None = None, **params: Any) -> Completion:
        """Run one call on model (pinned to this provider); the texts of streamed chunks
        are appended to pieces as they arrive. An error is noted for the secret checks."""
        try:
            if not stream:
                reply: Completion = await self.registry.complete(
                    model.qualified_id, messages, **params)
                return reply
            chunks = await self.registry.complete(model.qualified_id, messages, stream=True,
                                                  **params)
            async with chunks:
                async for chunk in chunks:
                    if chunk.text and pieces is not None:
                        pieces.append(chunk.text)
            return chunks.completion
        except BaseException as error:
            self.errors.append(error)
            raise

    async def settled(self, what: str, within: float = 2.0) -> None:
        """Wait until no emulator handler runs; Failed if one still does after `within` s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while self.stats.in_flight and loop.time() < deadline:
            await asyncio.sleep(0.01)
        if self.stats.in_flight:
            raise Failed(f"{self.stats.in_flight} emulator handler(s) still running "
                         f"{within:g} s after {what}: the upstream connection was left open")


@attrs.frozen
class Case:
    """One conformance case: its id (`fault/rate_limit/streamed`), what it checks, and the
    coroutine function that runs it in a fresh Env (it returns a detail, raises Failed or
    Skipped)."""

    id: str
    checks: str
    run: Callable[[Env], Any]
