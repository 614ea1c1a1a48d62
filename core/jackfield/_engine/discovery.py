"""Finding plugins: entry-point discovery, the JACKFIELD_LOAD_PLUGINS allow-list, isolation."""

from __future__ import annotations

import re
import types
from collections.abc import Collection, Iterable, Mapping
from typing import Any

import attrs
import pluggy

from jackfield import hookspecs
from jackfield._engine.entrypoints import FoundEntryPoint, entry_points
from jackfield._errors import ConfigurationError
from jackfield._types.specs import ProviderSpec

__all__ = ["ENTRY_POINT_GROUP", "KNOWN_PLUGINS", "LOAD_PLUGINS_ENV", "PluginRecord", "PluginSet",
           "install_hint", "installed_providers", "load_plugins", "normalize"]

ENTRY_POINT_GROUP = "jackfield"
LOAD_PLUGINS_ENV = "JACKFIELD_LOAD_PLUGINS"

# The first-party plugins, their provider names and the model names people type, so that
# asking for one that is not installed says what to install (an uninstalled plugin cannot be
# asked). Only a hint: tests/core/test_settings_checks.py keeps it true to the plugins.
KNOWN_PLUGINS: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "jackfield-aichats": ("aichats", ("gpt-4", "dalle")),
    "jackfield-amigochat": ("amigochat", (
        "gpt-4o", "gpt-4o-mini", "claude-3.5-sonnet", "claude-3.5-haiku",
        "gemini-1.5-flash", "gemini-flash", "llama-3.1-405b", "llama-3.2-90b", "qwen-2.5-72b",
        "mistral-nemo", "deepseek-chat", "grok-beta", "command-r-plus", "dall-e-3",
        "flux-dev", "flux-realism", "recraft-v3")),
    # Its models are the server's (discovered), so no name is known before it is asked.
    "jackfield-openai": ("openai", ()),
}
INSTALL_ADVICE = ("install a provider plugin, e.g. `pip install jackfield-aichats "
                  "jackfield-amigochat`")


def normalize(name: str) -> str:
    """Return a distribution name as pip compares it (PEP 503: case, -, _ and . are equal)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_providers() -> set[str]:
    """Return the provider names installed plugins go by, loaded or not (by entry-point name,
    which names the provider in every plugin we know of, and the first-party table)."""
    names = {ep.name for ep in entry_points(ENTRY_POINT_GROUP)}
    return names | {provider for provider, _ in KNOWN_PLUGINS.values()}


def install_hint(model: str, loaded: Collection[str]) -> str | None:
    """Return which distribution would serve model, when no loaded provider does."""
    provider, _, rest = model.partition("/")
    dists = [dist for dist, (name, models) in KNOWN_PLUGINS.items() if name not in loaded
             and ((rest and name == provider) or model in models or model == name)]
    if not dists:
        return None
    return (f"{model!r} is served by {' or '.join(dists)}, which is not loaded: "
            f"`pip install {dists[0]}`" + (f" (or {', '.join(dists[1:])})" if dists[1:] else "")
            + f", and if {LOAD_PLUGINS_ENV} is set, add it there.")


@attrs.define
class PluginRecord:
    """One plugin as the registry sees it: where it came from, what it does, what went wrong."""

    name: str
    distribution: str | None = None
    version: str | None = None
    hooks: tuple[str, ...] = ()
    provider: str | None = None
    model_count: int = 0
    error: str | None = None
    instances: tuple[str, ...] = ()  # the named providers that reuse this plugin

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return attrs.asdict(self) | {"hooks": list(self.hooks),
                                     "instances": list(self.instances)}


@attrs.define
class PluginSet:
    """The plugin manager plus, per provider, its spec and the plugin object that serves it."""

    manager: pluggy.PluginManager
    records: list[PluginRecord]
    providers: dict[str, ProviderSpec]
    owners: dict[str, object]  # provider name -> plugin object


def new_manager() -> pluggy.PluginManager:
    """Return a PluginManager that knows jackfield's hookspecs."""
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    return manager


def _allowed(environ: Mapping[str, str]) -> set[str] | None:
    raw = environ.get(LOAD_PLUGINS_ENV)
    if raw is None:
        return None
    return {normalize(name.strip()) for name in raw.split(",") if name.strip()}


def _check_allowed(allowed: set[str], found: Iterable[FoundEntryPoint]) -> None:
    """Refuse a JACKFIELD_LOAD_PLUGINS name that no installed plugin has: a typo loads nothing."""
    # A plugin registered without a distribution (rare: a test, a zipapp) is named by its
    # entry point.
    installed = sorted({ep.dist_name or ep.name for ep in found})
    names = {normalize(name) for name in installed} | {normalize(ep.name) for ep in found}
    unknown = sorted(allowed - names)
    if unknown:
        raise ConfigurationError(
            f"{LOAD_PLUGINS_ENV} names {', '.join(unknown)}, which no installed plugin "
            f"distribution is called; installed: {', '.join(installed) or 'none'} (names "
            "compare as pip does: case, '-', '_' and '.' do not matter; empty loads none, "
            "unset loads all).")


def _plugin_name(plugin: object) -> str:
    if isinstance(plugin, types.ModuleType):
        return plugin.__name__.split(".")[0]
    return getattr(plugin, "__name__", None) or type(plugin).__name__


def _hooks_of(manager: pluggy.PluginManager, plugin: object) -> tuple[str, ...]:
    callers = manager.get_hookcallers(plugin) or []
    return tuple(sorted(caller.name for caller in callers))


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _register(manager: pluggy.PluginManager, plugin: object, record: PluginRecord,
              sets: PluginSet) -> None:
    """Register one plugin and ask it for its provider; record, never raise, what fails."""
    if manager.has_plugin(record.name):
        record.error = f"a plugin named {record.name!r} is already registered"
        return
    try:
        manager.register(plugin, name=record.name)
    except (pluggy.PluginValidationError, ValueError) as error:
        record.error = _describe(error)
        return
    record.hooks = _hooks_of(manager, plugin)
    if "jackfield_provider" not in record.hooks:
        return  # a plugin that only wraps hooks serves no models of its own
    impl = next(i for i in manager.hook.jackfield_provider.get_hookimpls() if i.plugin is plugin)
    try:
        spec = impl.function()
    # A broken third-party plugin must not take the others down: record what it raised.
    except Exception as error:  # noqa: BLE001
        record.error = f"jackfield_provider raised {_describe(error)}"
        manager.unregister(plugin)
        return
    if not isinstance(spec, ProviderSpec):
        record.error = (f"jackfield_provider returned {type(spec).__name__}, "
                        "expected jackfield.ProviderSpec")
        manager.unregister(plugin)
        return
    if spec.name in sets.providers:
        record.error = f"provider name {spec.name!r} is already served by another plugin"
        manager.unregister(plugin)
        return
    record.provider = spec.name
    record.model_count = len(spec.models)
    sets.providers[spec.name] = spec
    sets.owners[spec.name] = plugin


def load_plugins(plugins: Iterable[object] | None, environ: Mapping[str, str]) -> PluginSet:
    """Register explicit plugins, or (plugins=None) every installed entry point allowed."""
    manager = new_manager()
    sets = PluginSet(manager, [], {}, {})
    if plugins is not None:
        for plugin in plugins:
            record = PluginRecord(name=_plugin_name(plugin))
            sets.records.append(record)
            _register(manager, plugin, record, sets)
        return sets
    allowed = _allowed(environ)
    found = sorted(entry_points(ENTRY_POINT_GROUP), key=lambda ep: ep.name)
    if allowed is not None:
        _check_allowed(allowed, found)
    for entry_point in found:
        dist_name = entry_point.dist_name
        if allowed is not None and normalize(dist_name or "") not in allowed \
                and normalize(entry_point.name) not in allowed:
            continue
        record = PluginRecord(name=entry_point.name, distribution=dist_name,
                              version=entry_point.version)
        sets.records.append(record)
        try:
            plugin = entry_point.load()
        # Import errors of any kind in third-party code are recorded, not propagated.
        except Exception as error:  # noqa: BLE001
            record.error = f"failed to import: {_describe(error)}"
            continue
        _register(manager, plugin, record, sets)
    return sets
