"""Registry settings from a TOML file (JACKFIELD_CONFIG) and routes from JACKFIELD_ROUTES."""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jackfield._engine.health import CooldownPolicy
from jackfield._errors import InvalidRequestError
from jackfield._settings.limits import Limits, RetryPolicy, Timeouts

__all__ = ["CONFIG_ENV", "ROUTES_ENV", "load_config_file", "parse_routes", "settings_from_env"]

CONFIG_ENV = "JACKFIELD_CONFIG"
ROUTES_ENV = "JACKFIELD_ROUTES"
_SECTIONS = {"timeouts": Timeouts, "limits": Limits, "retry": RetryPolicy,
             "cooldown": CooldownPolicy}


def parse_routes(value: Any, source: str) -> dict[str, list[str]]:
    """Check a route table: group name -> list of model names, tried in order."""
    if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, list) and v and all(isinstance(m, str) for m in v)
            for k, v in value.items()):
        raise InvalidRequestError(
            f"{source}: routes must map a name to a non-empty list of model names, e.g. "
            '{"any-dalle": ["amigochat/dall-e-3", "aichats/dalle"]}.')
    return {name: list(models) for name, models in value.items()}


def load_config_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Return Registry keyword arguments read from a TOML file."""
    try:
        data = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise InvalidRequestError(f"cannot read the config file {path}: {error}") from error
    known = {"providers", "routes", "provider_order", "proxy", *_SECTIONS}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InvalidRequestError(f"{path}: unknown section(s) {', '.join(unknown)}; "
                                  f"known: {', '.join(sorted(known))}.")
    kwargs: dict[str, Any] = {}
    if "providers" in data:
        kwargs["config"] = data["providers"]
    if "routes" in data:
        kwargs["routes"] = parse_routes(data["routes"], str(path))
    if "provider_order" in data:
        kwargs["provider_order"] = list(data["provider_order"])
    if "proxy" in data:
        kwargs["proxy"] = str(data["proxy"])
    for section, cls in _SECTIONS.items():
        if section in data:
            try:
                kwargs[section] = cls(**data[section])
            except TypeError as error:
                raise InvalidRequestError(f"{path}: [{section}]: {error}") from error
    return kwargs


def settings_from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """Return Registry keyword arguments from JACKFIELD_CONFIG and JACKFIELD_ROUTES."""
    kwargs: dict[str, Any] = {}
    if environ.get(CONFIG_ENV):
        kwargs.update(load_config_file(environ[CONFIG_ENV]))
    if environ.get(ROUTES_ENV):
        try:
            routes = json.loads(environ[ROUTES_ENV])
        except ValueError as error:
            raise InvalidRequestError(f"{ROUTES_ENV} is not valid JSON: {error}") from error
        kwargs["routes"] = {**kwargs.get("routes", {}), **parse_routes(routes, ROUTES_ENV)}
    return kwargs
