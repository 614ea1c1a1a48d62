"""Named providers that reuse one plugin: `[providers.local-vllm] plugin = "openai"`.

An instance is a provider of its own for routing, pinning (`local-vllm/...`), settings
(JACKFIELD_LOCAL_VLLM_API_KEY), health and cooldown, served by another provider's plugin:
its ProviderSpec is the plugin's, renamed. Declared in config= or the config file.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import attrs

from jackfield._errors import ConfigurationError
from jackfield._types.specs import ProviderSpec

__all__ = ["declared_instances", "instance_spec"]


def declared_instances(explicit: Mapping[str, Mapping[str, Any]],
                       file_config: Mapping[str, Mapping[str, Any]], file: str | None, *,
                       loaded: Mapping[str, ProviderSpec], installed: Collection[str],
                       ) -> dict[str, str]:
    """Return instance name -> the provider whose plugin serves it.

    A config file is shared by every program that reads it: an instance of a plugin that is
    installed but not loaded here is skipped there, and refused in config=.
    """
    found: dict[str, str] = {}
    for values, where, shared in ((file_config, f"{file}: [providers.%s]", True),
                                  (explicit, "config={%r: ...}", False)):
        for name, table in values.items():
            if "plugin" not in table:
                continue
            source = where % (name if shared else repr(name))
            plugin = table["plugin"]
            if not isinstance(plugin, str) or not plugin:
                raise ConfigurationError(f"{source} plugin must be the name of the provider "
                                         'whose plugin serves it, e.g. plugin = "openai".')
            if plugin == name:
                found.pop(name, None)  # the plugin's own provider, said in so many words
                continue
            # Only a loaded one: `[providers.ollama] plugin = "openai"` is the documented
            # set-up, and must not fail because some "ollama" plugin is installed, unused.
            if name in loaded:
                raise ConfigurationError(f"{source}: {name!r} is already the name of an "
                                         "installed provider; give the instance another name.")
            if plugin not in loaded:
                if shared and plugin in installed:
                    continue  # for another program that loads that plugin
                raise ConfigurationError(
                    f"{source} plugin = {plugin!r} names no loaded provider; loaded: "
                    f"{', '.join(sorted(loaded)) or 'none'}.")
            found[name] = plugin
    return found


def instance_spec(spec: ProviderSpec, name: str, source: str) -> ProviderSpec:
    """Return the plugin's spec under the instance's name (checked as any provider name)."""
    try:
        return attrs.evolve(spec, name=name)
    except ValueError as error:
        raise ConfigurationError(f"{source}: {error}.") from None
