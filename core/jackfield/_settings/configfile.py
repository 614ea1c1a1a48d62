"""Registry settings from keyword arguments, the environment and a TOML file, in that order.

One precedence for every setting: call arguments > keyword arguments > environment > config
file > plugin defaults. This module merges the registry-wide ones (policies, proxy, provider
order, routes); per-provider settings are merged by jackfield._settings.config.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import attrs

from jackfield._engine.health import CooldownPolicy
from jackfield._engine.model_book import DiscoveryPolicy
from jackfield._engine.probe_book import ProbePolicy
from jackfield._errors import ConfigurationError
from jackfield._settings.limits import Limits, RetryPolicy, Timeouts
from jackfield._types.requests import redact_url

__all__ = ["CONFIG_ENV", "ROUTES_ENV", "RegistrySettings", "check_proxy", "gather",
           "load_config_file", "parse_routes", "server_tables"]

CONFIG_ENV = "JACKFIELD_CONFIG"
ROUTES_ENV = "JACKFIELD_ROUTES"
_POLICIES: dict[str, type[Any]] = {"timeouts": Timeouts, "limits": Limits, "retry": RetryPolicy,
                                   "cooldown": CooldownPolicy, "discovery": DiscoveryPolicy,
                                   "probes": ProbePolicy}
# `jackfield serve`'s own: read by server_tables(), not by the registry.
_SERVER_SECTIONS = {"redis": ("url", "prefix"), "server_keys": None}
_SECTIONS = ("providers", "routes", "provider_order", "proxy", *_POLICIES, *_SERVER_SECTIONS)
_Policy = TypeVar("_Policy", bound=attrs.AttrsInstance)


def parse_routes(value: Any, source: str) -> dict[str, list[str]]:
    """Check a route table: group name -> list of model names, tried in order."""
    if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, list | tuple) and v
            and all(isinstance(m, str) for m in v)
            for k, v in value.items()):
        raise ConfigurationError(
            f"{source}: routes must map a name to a non-empty list of model names, e.g. "
            '{"any-dalle": ["amigochat/dall-e-3", "aichats/dalle"]}.')
    return {name: list(models) for name, models in value.items()}


def _policy(cls: type[_Policy], table: Any, where: str) -> _Policy:
    accepted = [field.name for field in attrs.fields(cls)]
    if not isinstance(table, Mapping):
        raise ConfigurationError(f"{where} must be a table with keys {', '.join(accepted)}.")
    unknown = sorted(set(table) - set(accepted))
    if unknown:
        raise ConfigurationError(f"{where}: unknown key(s) {', '.join(unknown)}; accepted: "
                                 f"{', '.join(accepted)}.")
    try:
        return cls(**table)
    except ConfigurationError as error:
        raise ConfigurationError(f"{where}: {error}") from None


def _names(value: Any, source: str) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Iterable) or not all(
            isinstance(name, str) for name in value):
        raise ConfigurationError(f"{source} must be a list of provider names, e.g. "
                                 '["amigochat", "aichats"], got ' f"{value!r}.")
    return list(value)


def check_proxy(value: Any, source: str) -> str:
    """Return value if it is an http(s) proxy URL; raise ConfigurationError naming source."""
    if not isinstance(value, str) or not _is_proxy_url(value):
        shown = redact_url(value) if isinstance(value, str) else value  # it may hold a password
        raise ConfigurationError(f"{source} must be an http:// or https:// proxy URL such as "
                                 f"'http://127.0.0.1:3128', got {shown!r}.")
    return value


def _is_proxy_url(value: str) -> bool:
    """Return True for an http(s) URL with a host and a valid port (aiohttp's InvalidURL
    would otherwise surface at the first call)."""
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError when out of range or not a number
    except ValueError:
        return False
    return (parts.scheme in ("http", "https") and bool(parts.hostname)
            and not any(c.isspace() for c in value))


def load_config_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Return Registry keyword arguments read from a TOML file, each checked."""
    import tomllib  # here: most registries read no file, and start-up time counts

    try:
        data = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigurationError(f"cannot read the config file {path}: {error}") from error
    unknown = sorted(set(data) - set(_SECTIONS))
    if unknown:
        raise ConfigurationError(f"{path}: unknown section(s) {', '.join(unknown)}; "
                                 f"known: {', '.join(sorted(_SECTIONS))}.")
    kwargs: dict[str, Any] = {}
    if "providers" in data:
        providers = data["providers"]
        if not isinstance(providers, Mapping) or not all(
                isinstance(table, Mapping) for table in providers.values()):
            raise ConfigurationError(f"{path}: [providers] must hold one table per provider, "
                                     'e.g. [providers.aichats] base_url = "http://...".')
        kwargs["config"] = {name: dict(table) for name, table in providers.items()}
    if "routes" in data:
        kwargs["routes"] = parse_routes(data["routes"], f"{path} [routes]")
    if "provider_order" in data:
        kwargs["provider_order"] = _names(data["provider_order"], f"{path}: provider_order")
    if "proxy" in data:
        kwargs["proxy"] = check_proxy(data["proxy"], f"{path}: proxy")
    for section, cls in _POLICIES.items():
        if section in data:
            kwargs[section] = _policy(cls, data[section], f"{path} [{section}]")
    return kwargs


def server_tables(environ: Mapping[str, str]) -> dict[str, Any]:
    """Return the config file's ($JACKFIELD_CONFIG) [redis] table, its keys checked, and its
    [server_keys] tables as they are (jackfield._server.server_keys checks them); {} for
    no file."""
    import tomllib

    path = environ.get(CONFIG_ENV)
    if not path:
        return {}
    try:
        data = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigurationError(f"cannot read the config file {path}: {error}") from error
    redis = data.get("redis", {})
    accepted = _SERVER_SECTIONS["redis"] or ()
    if not isinstance(redis, Mapping) or set(redis) - set(accepted) or not all(
            isinstance(value, str) and value for value in redis.values()):
        raise ConfigurationError(f"{path} [redis] takes {', '.join(accepted)} as text, e.g. "
                                 'url = "redis://127.0.0.1:6379/0".')
    tables: dict[str, Any] = {"redis": dict(redis), "file": str(path)}
    if "server_keys" in data:
        tables["server_keys"] = data["server_keys"]
    return tables


def _env_routes(environ: Mapping[str, str]) -> dict[str, list[str]]:
    if not environ.get(ROUTES_ENV):
        return {}
    import json  # here: only this variable is JSON, and start-up time counts

    try:
        routes = json.loads(environ[ROUTES_ENV])
    except ValueError as error:
        raise ConfigurationError(f"{ROUTES_ENV} is not valid JSON: {error}") from error
    return parse_routes(routes, ROUTES_ENV)


def _pick(value: Any, cls: type[_Policy], name: str, file: Mapping[str, Any]) -> _Policy:
    if value is None:
        return file.get(name) or cls()
    if not isinstance(value, cls):
        raise ConfigurationError(f"{name}= must be a jackfield.{cls.__name__}, e.g. "
                                 f"{cls.__name__}(...), got {value!r}.")
    return value


@attrs.frozen
class RegistrySettings:
    """The registry-wide settings once every source has been merged and checked."""

    timeouts: Timeouts
    limits: Limits
    retry: RetryPolicy
    cooldown: CooldownPolicy
    discovery: DiscoveryPolicy
    probes: ProbePolicy
    proxy: str | None
    provider_order: list[str]
    order_source: str  # "provider_order=" or the file's entry, for messages
    routes: dict[str, list[str]]
    file_config: dict[str, dict[str, Any]]  # [providers.X] tables, below the environment
    file: str | None  # the config file read, for messages


def gather(environ: Mapping[str, str], config_file: str | os.PathLike[str] | None, *,
           timeouts: Timeouts | None, limits: Limits | None, retry: RetryPolicy | None,
           cooldown: CooldownPolicy | None, proxy: str | None,
           provider_order: Iterable[str] | None,
           routes: Mapping[str, Sequence[str]] | None,
           discovery: DiscoveryPolicy | None = None,
           probes: ProbePolicy | None = None) -> RegistrySettings:
    """Merge keyword arguments over the environment over the config file."""
    path = config_file if config_file is not None else environ.get(CONFIG_ENV) or None
    file = load_config_file(path) if path is not None else {}
    merged_routes = {**file.get("routes", {}), **_env_routes(environ),
                     **(parse_routes(routes, "routes=") if routes is not None else {})}
    order_source = "provider_order=" if provider_order is not None else f"{path}: provider_order"
    order = (_names(provider_order, order_source) if provider_order is not None
             else file.get("provider_order", []))
    return RegistrySettings(
        timeouts=_pick(timeouts, Timeouts, "timeouts", file),
        limits=_pick(limits, Limits, "limits", file),
        retry=_pick(retry, RetryPolicy, "retry", file),
        cooldown=_pick(cooldown, CooldownPolicy, "cooldown", file),
        discovery=_pick(discovery, DiscoveryPolicy, "discovery", file),
        probes=_pick(probes, ProbePolicy, "probes", file),
        proxy=check_proxy(proxy, "proxy=") if proxy is not None else file.get("proxy"),
        provider_order=order, order_source=order_source, routes=merged_routes,
        file_config=file.get("config", {}),
        file=None if path is None else os.fspath(path))

