"""Per-provider settings: base URL and credentials from config=, environment or config file."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import attrs

from jackfield._errors import AuthenticationError, ConfigurationError
from jackfield._types.requests import redact_url
from jackfield._types.specs import ProviderSpec

__all__ = ["CORE_KEYS", "ProviderConfig", "env_name", "resolve_config"]

# Keys of a [providers.NAME] table (or config={NAME: {...}}) that the core reads itself, for
# any provider: `plugin` makes NAME an instance of another plugin's provider, `models` is an
# allow-list of model ids, `headers` are sent with every request.
CORE_KEYS = ("plugin", "models", "headers")
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110's token
# How a request is framed on the wire: a configured value would corrupt every request.
_FRAMING = frozenset({"content-length", "transfer-encoding", "connection", "upgrade", "te"})
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # a tab is allowed in a value


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
    # setting -> where its value came from (`jackfield config`); unset ones are absent.
    sources: Mapping[str, str] = attrs.field(factory=dict, eq=False)
    # Headers the core adds to every request of this provider (they win over the plugin's).
    headers: Mapping[str, str] = attrs.field(factory=dict)
    # The only model ids this provider lists and serves; None: every one.
    models: tuple[str, ...] | None = None
    # The provider of the plugin this one is an instance of (its own name if it is none).
    plugin: str = ""

    def get(self, name: str) -> str | None:
        """Return a setting's value, or None when it is not configured."""
        return self.values.get(name)

    def require(self, name: str) -> str:
        """Return a setting's value; raise AuthenticationError naming how to set it if missing."""
        value = self.values.get(name)
        if not value:
            own = self.plugin in ("", self.provider)
            # A plugin's hint names its own provider's variables; an instance of it (named
            # otherwise) reads others, so the core says which.
            hint = (self.auth_hint if own else "") or (
                f"Set {env_name(self.provider, name)}, or {name} in [providers."
                f"{self.provider}] of the config file, or Registry(config={{"
                f"{self.provider!r}: {{{name!r}: ...}}}})."
            )
            raise AuthenticationError(self.provider, f"the setting {name!r} is not configured",
                                      advice=hint)
        return value

    @property
    def reply_hint(self) -> str:
        """Return what a 401/403 reply's advice ends with: the plugin's `auth_hint` for its
        own provider; for an instance of it, the instance's own variables (the plugin's hint
        names the plugin's, which an instance does not read)."""
        if self.plugin in ("", self.provider):
            return self.auth_hint
        names = sorted(self.secret_names)
        if not names:
            return ""
        shown = ", ".join(env_name(self.provider, name) for name in names)
        return (f"Check {shown} (or [providers.{self.provider}] of the config file, or "
                f"`jackfield keys set {self.provider}`).")

    def url(self, path: str) -> str:
        """Join a path onto the base URL."""
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")

    def __repr__(self) -> str:
        shown = {k: ("***" if k in self.secret_names else v) for k, v in self.values.items()}
        extra = f", headers={sorted(self.headers)!r}" if self.headers else ""  # names only
        return (f"ProviderConfig(provider={self.provider!r}, "
                f"base_url={redact_url(self.base_url)!r}, "
                f"values={shown!r}{extra})")


def _check_url(value: str, source: str, default: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(f"{source} must be an http:// or https:// URL such as "
                                 f"{default!r} or 'http://127.0.0.1:8001', "
                                 f"got {redact_url(value)!r}.")
    return value


def _core_values(spec: ProviderSpec, explicit: Mapping[str, Any], file_values: Mapping[str, Any],
                 file: str | None) -> tuple[dict[str, str], tuple[str, ...] | None]:
    """Return the headers and the model allow-list: config= wins over the file, key by key."""
    headers: dict[str, str] = {}
    models: tuple[str, ...] | None = None
    for values, where in ((file_values, f"{file}: [providers.{spec.name}]"),
                          (explicit, f"config={{{spec.name!r}: ...}}")):
        if "headers" in values:
            table = values["headers"]
            if not isinstance(table, Mapping) or not all(
                    isinstance(k, str) and k and isinstance(v, str) for k, v in table.items()):
                raise ConfigurationError(f"{where} headers must map header names to text, "
                                         'e.g. headers = {"X-Title" = "my app"}.')
            bad = [k for k, v in table.items() if any(c in k + v for c in "\r\n")]
            if bad:
                raise ConfigurationError(f"{where} headers: {bad[0]!r} holds a line break.")
            # Refused here, not by the service: aiohttp sends a malformed name as it is (a
            # 400 that blames the request) and raises a bare ValueError for a control byte.
            names = [k for k in table if not _HEADER_NAME.fullmatch(k)]
            if names:
                raise ConfigurationError(f"{where} headers: {names[0]!r} is not a header name "
                                         "(letters, digits and !#$%&'*+-.^_`|~ only).")
            framing = [k for k in table if k.lower() in _FRAMING]
            if framing:
                raise ConfigurationError(f"{where} headers: {framing[0]!r} is set by the HTTP "
                                         "client for each request; it cannot be configured.")
            controls = [k for k, v in table.items() if _CONTROL.search(v)]
            if controls:
                raise ConfigurationError(f"{where} headers: the value of {controls[0]!r} holds "
                                         "a control character.")
            headers = dict(table)
        if "models" in values:
            listed = values["models"]
            if isinstance(listed, str) or not isinstance(listed, list | tuple) or not listed \
                    or not all(isinstance(m, str) and m for m in listed):
                raise ConfigurationError(f"{where} models must be a non-empty list of model "
                                         'ids, e.g. models = ["gpt-4o-mini"].')
            models = tuple(dict.fromkeys(listed))
    return headers, models


def resolve_config(
    spec: ProviderSpec, explicit: Mapping[str, Any] | None, environ: Mapping[str, str],
    file_values: Mapping[str, Any] | None = None, file: str | None = None, *,
    key_values: Mapping[str, str] | None = None, keys_file: str | None = None,
    plugin: str | None = None,
) -> ProviderConfig:
    """Merge config= over the environment over the keys file over the config file over the
    plugin's defaults.

    plugin names the provider whose plugin this one is an instance of; the settings'
    `fallback_env` variables are read only for a plugin's own provider.
    """
    plugin = plugin or spec.name
    headers, allowed = _core_values(spec, explicit or {}, file_values or {}, file)
    explicit = {k: v for k, v in (explicit or {}).items() if k not in CORE_KEYS}
    file_values = {k: v for k, v in (file_values or {}).items() if k not in CORE_KEYS}
    known = {"base_url", *spec.settings}
    layers: list[tuple[Mapping[str, Any], Callable[[str], str]]] = [
        (explicit or {}, lambda key: f"config={{{spec.name!r}: {{{key!r}: ...}}}}"),
        ({key: value for key in known if (value := environ.get(env_name(spec.name, key)))},
         lambda key: env_name(spec.name, key)),
        *(_fallbacks(spec, environ) if plugin == spec.name else ()),
        (key_values or {}, lambda key: f"the keys file {keys_file} ({spec.name} {key})"),
        (file_values or {}, lambda key: f"{file}: [providers.{spec.name}] {key}"),
    ]
    stale = sorted(set(key_values or {}) - {n for n, s in spec.settings.items() if s.secret})
    if stale:
        raise ConfigurationError(
            f"the keys file {keys_file} holds {', '.join(stale)} for provider {spec.name!r}, "
            f"which is no secret setting of it: run `jackfield keys remove {spec.name} "
            f"{stale[0]}`.")
    for values, where in ((explicit or {}, "config="),
                          (file_values or {}, f"{file}: [providers.{spec.name}]")):
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigurationError(
                f"{where}: unknown setting(s) {', '.join(unknown)} for provider {spec.name!r}; "
                f"it accepts: {', '.join(sorted(known))}; and, as any provider, "
                f"{', '.join(sorted(CORE_KEYS))}.")

    secret_names = frozenset(name for name, s in spec.settings.items() if s.secret)

    sources: dict[str, str] = {}

    def lookup(name: str) -> str | None:
        for values, source in layers:
            value = values.get(name)
            if value is None:
                continue
            if not isinstance(value, str):
                shown = type(value).__name__ if name in secret_names else repr(value)
                raise ConfigurationError(f"{source(name)} must be text, got {shown}.")
            sources[name] = source(name)
            if name == "base_url":
                return _check_url(value, source(name), spec.base_url)
            return value
        return None

    base_url = lookup("base_url") or spec.base_url
    values = {name: value for name in spec.settings if (value := lookup(name)) is not None}
    return ProviderConfig(spec.name, base_url, values, secret_names, spec.auth_hint, sources,
                          headers=headers, models=allowed, plugin=plugin)


def _fallbacks(spec: ProviderSpec, environ: Mapping[str, str],
               ) -> list[tuple[Mapping[str, Any], Callable[[str], str]]]:
    """Return one layer per fallback variable a setting declares (OPENAI_API_KEY, say)."""
    layers: list[tuple[Mapping[str, Any], Callable[[str], str]]] = []
    depth = max((len(s.fallback_env) for s in spec.settings.values()), default=0)
    for position in range(depth):
        names = {key: s.fallback_env[position] for key, s in spec.settings.items()
                 if len(s.fallback_env) > position}
        values = {key: value for key, name in names.items() if (value := environ.get(name))}
        layers.append((values, lambda key, names=names: names[key]))  # type: ignore[misc]
    return layers
