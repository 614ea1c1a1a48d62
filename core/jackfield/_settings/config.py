"""Per-provider configuration: base URL and settings from registry config or environment."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

from jackfield._errors import AuthenticationError, InvalidRequestError
from jackfield._types.specs import ProviderSpec

__all__ = ["ProviderConfig", "env_name", "resolve_config"]


def env_name(provider: str, setting: str) -> str:
    """Return the environment variable for a provider setting: JACKFIELD_<PROVIDER>_<SETTING>."""
    def clean(part: str) -> str:
        return re.sub(r"[^A-Z0-9]", "_", part.upper())

    return f"JACKFIELD_{clean(provider)}_{clean(setting)}"


@attrs.frozen(repr=False)
class ProviderConfig:
    """The resolved configuration handed to a provider's request builder; secrets never print."""

    provider: str
    base_url: str
    values: Mapping[str, str] = attrs.field(factory=dict)
    secret_names: frozenset[str] = frozenset()
    auth_hint: str = ""

    def get(self, name: str) -> str | None:
        """Return a setting's value, or None when it is not configured."""
        return self.values.get(name)

    def require(self, name: str) -> str:
        """Return a setting's value; raise AuthenticationError naming how to set it if missing."""
        value = self.values.get(name)
        if not value:
            hint = self.auth_hint or (
                f"Set {env_name(self.provider, name)} or "
                f"Registry(config={{{self.provider!r}: {{{name!r}: ...}}}})."
            )
            raise AuthenticationError(self.provider, f"the setting {name!r} is not configured",
                                      advice=hint)
        return value

    def url(self, path: str) -> str:
        """Join a path onto the base URL."""
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")

    def __repr__(self) -> str:
        shown = {k: ("***" if k in self.secret_names else v) for k, v in self.values.items()}
        return (f"ProviderConfig(provider={self.provider!r}, base_url={self.base_url!r}, "
                f"values={shown!r})")


def resolve_config(
    spec: ProviderSpec, explicit: Mapping[str, Any] | None, environ: Mapping[str, str]
) -> ProviderConfig:
    """Merge explicit registry config over the environment over the plugin's defaults."""
    explicit = dict(explicit or {})
    known = {"base_url", *spec.settings}
    unknown = sorted(set(explicit) - known)
    if unknown:
        raise InvalidRequestError(
            f"Unknown setting(s) {', '.join(unknown)} for provider {spec.name!r}; "
            f"it accepts: {', '.join(sorted(known))}."
        )

    def lookup(name: str) -> str | None:
        if explicit.get(name) is not None:
            return str(explicit[name])
        return environ.get(env_name(spec.name, name)) or None

    base_url = lookup("base_url") or spec.base_url
    values = {name: value for name in spec.settings if (value := lookup(name)) is not None}
    secrets = frozenset(name for name, s in spec.settings.items() if s.secret)
    return ProviderConfig(spec.name, base_url, values, secrets, spec.auth_hint)
