"""Putting a registry's providers together: plugins, named instances, each one's settings.

Every check here runs when the Registry is built, before any I/O: settings for a provider
that is not loaded, an instance of a plugin that is not there, a keys file entry that is no
secret setting — each is a ConfigurationError naming where it came from.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from jackfield._engine.discovery import (
    INSTALL_ADVICE,
    PluginSet,
    installed_providers,
    load_plugins,
)
from jackfield._errors import ConfigurationError, PluginError
from jackfield._settings.config import ProviderConfig, resolve_config
from jackfield._settings.configfile import RegistrySettings
from jackfield._settings.instances import declared_instances, instance_spec
from jackfield._settings.userfiles import keys_path, read_keys

__all__ = ["Assembly", "assemble", "emulators"]

log = logging.getLogger("jackfield")


@attrs.frozen
class Assembly:
    """The providers of one registry: plugins and instances, and how each is configured."""

    plugins: PluginSet
    configs: dict[str, ProviderConfig]
    instances: dict[str, str]  # instance name -> the provider whose plugin serves it
    discovering: frozenset[str]  # providers whose plugin lists models from its service
    passing: frozenset[str]  # providers that send unlisted pinned ids as they are


def assemble(plugins: list[object] | None, environ: Mapping[str, str],
             settings: RegistrySettings, config: Any, *, real_environ: bool) -> Assembly:
    """Load the plugins, add the declared instances and resolve every provider's settings."""
    sets = load_plugins(plugins, environ)
    explicit = _checked_config(config)
    instances = declared_instances(explicit, settings.file_config, settings.file,
                                   loaded=sets.providers, installed=installed_providers())
    for name, plugin in instances.items():
        sets.providers[name] = instance_spec(sets.providers[plugin], name,
                                             f"[providers.{name}]")
        sets.owners[name] = sets.owners[plugin]
        for record in sets.records:
            if record.provider == plugin:
                record.instances = (*record.instances, name)
    loaded = sets.providers

    def check(names: Iterable[str], source: str, *, shared: bool = False) -> None:
        """Refuse settings for a provider that is not loaded: they would be silently unused.

        A config file is shared by every program that reads it: there, a provider that is
        installed but not loaded here (plugins=[...], JACKFIELD_LOAD_PLUGINS) is no mistake.
        """
        unknown = set(names) - set(loaded)
        if unknown and shared:
            unknown -= installed_providers()
            unknown = {name for name in unknown
                       if "plugin" not in settings.file_config.get(name, {})}
        if unknown:
            raise ConfigurationError(
                f"{source} names unknown provider(s) {', '.join(sorted(unknown))}; loaded "
                "providers: "
                + (', '.join(sorted(loaded)) if loaded else f"none ({INSTALL_ADVICE})") + ".")

    check(explicit, "config=")
    from_file = settings.order_source != "provider_order="
    check(settings.provider_order, settings.order_source, shared=from_file)
    check(settings.file_config, f"{settings.file}: [providers]", shared=True)
    # The keys file (`jackfield keys set`) sits between the environment and the config
    # file; keys of providers not loaded here are kept for them, not refused.
    keys_file = keys_path(environ, real=real_environ)
    keys = read_keys(keys_file)
    configs = {
        name: resolve_config(spec, explicit.get(name), environ, settings.file_config.get(name),
                             settings.file, key_values=keys.get(name),
                             keys_file=str(keys_file), plugin=instances.get(name, name))
        for name, spec in loaded.items()
    }
    impls = sets.manager.hook.jackfield_discover_models.get_hookimpls()
    owners = {id(impl.plugin) for impl in impls}
    discovering = frozenset(name for name, owner in sets.owners.items() if id(owner) in owners)
    passing = frozenset(name for name, spec in loaded.items()
                        if spec.pass_through and configs[name].models is None)
    return Assembly(sets, configs, instances, discovering, passing)


def _checked_config(config: Any) -> dict[str, Mapping[str, Any]]:
    if config is None:
        return {}
    if not isinstance(config, Mapping) or not all(
            isinstance(values, Mapping) for values in config.values()):
        raise ConfigurationError(
            "config= must map a provider name to its settings, e.g. "
            f"{{'aichats': {{'base_url': 'http://127.0.0.1:8001'}}}}, got {type(config)}.")
    return dict(config)


def emulators(plugins: PluginSet) -> dict[str, Any]:
    """Return provider name -> emulator app factory, for plugins that ship one."""
    result: dict[str, Any] = {}
    impls = plugins.manager.hook.jackfield_emulator.get_hookimpls()
    for name, owner in plugins.owners.items():
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
