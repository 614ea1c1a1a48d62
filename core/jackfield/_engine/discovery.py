"""Finding plugins: entry-point discovery, the JACKFIELD_LOAD_PLUGINS allow-list, isolation."""

from __future__ import annotations

import importlib.metadata
import types
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import pluggy

from jackfield import hookspecs
from jackfield._types.specs import ProviderSpec

__all__ = ["ENTRY_POINT_GROUP", "LOAD_PLUGINS_ENV", "PluginRecord", "PluginSet", "load_plugins"]

ENTRY_POINT_GROUP = "jackfield"
LOAD_PLUGINS_ENV = "JACKFIELD_LOAD_PLUGINS"


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

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return attrs.asdict(self) | {"hooks": list(self.hooks)}


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
    return {name.strip() for name in raw.split(",") if name.strip()}


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
    entry_points = sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP),
                          key=lambda ep: ep.name)
    for entry_point in entry_points:
        dist = entry_point.dist
        dist_name = dist.name if dist is not None else None
        if allowed is not None and dist_name not in allowed and entry_point.name not in allowed:
            continue
        record = PluginRecord(name=entry_point.name, distribution=dist_name,
                              version=dist.version if dist is not None else None)
        sets.records.append(record)
        try:
            plugin = entry_point.load()
        # Import errors of any kind in third-party code are recorded, not propagated.
        except Exception as error:  # noqa: BLE001
            record.error = f"failed to import: {_describe(error)}"
            continue
        _register(manager, plugin, record, sets)
    return sets
