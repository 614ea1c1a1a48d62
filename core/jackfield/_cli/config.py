"""`jackfield config`: the effective settings and where each one came from, secrets as ***.

Sources, in precedence order: a keyword (`config=`, only from Python), the environment
variable's name, the keys file, the config file's entry, the plugin's (or jackfield's)
default. The values are those a `Registry()` here would use: it is built to find out.
A named instance (`[providers.local-vllm] plugin = "openai"`) is a provider of its own here,
with the plugin it uses; configured `headers` show their values, but a header that carries
a credential (Authorization, a key, a token, a cookie) shows ***; `models` allow-lists show.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jackfield._cli.common import Parser

if TYPE_CHECKING:
    from jackfield._engine.registry import Registry

__all__ = ["add_parser", "cmd_config", "effective", "is_credential_header"]

NOT_SET = "not set"
DEFAULT = "default"
# Header names that carry a credential besides the core's SENSITIVE_HEADERS ("X-Goog-Api-Key",
# "X-Auth-Token", "X-Session-Id"): their values are never shown.
_CREDENTIAL_WORDS = ("key", "token", "secret", "auth", "cookie", "session", "password",
                     "signature")


def is_credential_header(name: str) -> bool:
    """Return True for a header whose value must not be shown."""
    from jackfield._types.requests import SENSITIVE_HEADERS

    lowered = name.lower()
    return lowered in SENSITIVE_HEADERS or any(word in lowered for word in _CREDENTIAL_WORDS)


def add_parser(command: Callable[..., Parser]) -> None:
    """Add `config` through main.py's command(name, help, run, *examples)."""
    config = command("config", "Show the effective settings and where each came from "
                     "(secrets as ***).", cmd_config, "jackfield config",
                     "JACKFIELD_CONFIG=jackfield.toml jackfield config --json")
    config.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _masked(url: str | None) -> str | None:
    """Return a URL with its password and query values as *** (a token may ride in either)."""
    from jackfield._types.requests import redact_url

    return None if url is None else redact_url(url)


def _core_rows(registry: Registry, name: str) -> dict[str, dict[str, Any]]:
    """Return the rows of the core's own keys of a provider's table: plugin, headers, models."""
    from jackfield._settings.configfile import CONFIG_ENV

    config = registry.config(name)
    where = f"{os.environ.get(CONFIG_ENV)}: [providers.{name}]"
    rows: dict[str, dict[str, Any]] = {}
    if config.plugin and config.plugin != name:
        rows["plugin"] = {"value": config.plugin, "source": f"{where} (an instance of the "
                                                            f"{config.plugin} plugin)"}
    for header, value in sorted(config.headers.items()):
        rows[f"headers.{header}"] = {"value": "***" if is_credential_header(header) else value,
                                     "source": where}
    if config.models is not None:
        rows["models"] = {"value": list(config.models), "source": f"{where} (an allow-list)"}
    return rows


def _providers(registry: Registry) -> dict[str, dict[str, dict[str, Any]]]:
    from jackfield._settings.config import env_name

    result: dict[str, dict[str, dict[str, Any]]] = {}
    for spec in registry.providers():
        config = registry.config(spec.name)
        rows = {"base_url": {"value": _masked(config.base_url),
                             "source": config.sources.get("base_url", "plugin default")}}
        rows.update(_core_rows(registry, spec.name))
        for name in spec.settings:
            value = config.get(name)
            if value is None:
                hint = (f"set {env_name(spec.name, name)}"
                        + (f" or `jackfield keys set {spec.name} {name}`"
                           if spec.settings[name].secret else ""))
                rows[name] = {"value": None, "source": f"{NOT_SET} ({hint})"}
            else:
                shown = "***" if name in config.secret_names else value
                rows[name] = {"value": shown, "source": config.sources.get(name, "?")}
        result[spec.name] = rows
    return result


def _shown(value: Any) -> Any:
    import attrs

    return attrs.asdict(value) if attrs.has(type(value)) else value


def _registry_wide(registry: Registry) -> dict[str, dict[str, Any]]:
    from jackfield._settings.configfile import ROUTES_ENV, gather, load_config_file

    # The registry was built from these same sources without keywords: gather() again shows
    # what it merged (the cooldown policy included, which the registry keeps to itself).
    settings = gather(os.environ, None, timeouts=None, limits=None, retry=None, cooldown=None,
                      proxy=None, provider_order=None, routes=None)
    file = settings.file
    table = load_config_file(file) if file else {}
    env_routes: set[str] = set()
    if os.environ.get(ROUTES_ENV):
        import json

        env_routes = set(json.loads(os.environ[ROUTES_ENV]))  # gather() has checked it

    def source(key: str, entry: str) -> str:
        return f"{file}: {entry}" if key in table else DEFAULT

    rows: dict[str, dict[str, Any]] = {
        name: {"value": _shown(getattr(settings, name)), "source": source(name, f"[{name}]")}
        for name in ("timeouts", "limits", "retry", "cooldown", "discovery")}
    rows["proxy"] = {"value": _masked(settings.proxy),
                     "source": source("proxy", "proxy") if settings.proxy else NOT_SET}
    rows["provider_order"] = {"value": [spec.name for spec in registry.providers()],
                              "source": source("provider_order", "provider_order")
                              if "provider_order" in table else f"{DEFAULT} (alphabetical)"}
    for group, models in registry.routes().items():
        rows[f"routes.{group}"] = {"value": list(models), "source": ROUTES_ENV
                                   if group in env_routes else f"{file}: [routes] {group}"}
    return rows


def effective() -> dict[str, Any]:
    """Return the effective settings, each with its source, as `jackfield config --json`."""
    from jackfield._engine.registry import Registry
    from jackfield._settings.configfile import CONFIG_ENV
    from jackfield._settings.userfiles import keys_path

    registry = Registry.discover()
    file = os.environ.get(CONFIG_ENV) or None
    keys = keys_path()
    instances = {spec.name: registry.config(spec.name).plugin for spec in registry.providers()
                 if registry.config(spec.name).plugin not in ("", spec.name)}
    return {"config_file": file, "keys_file": str(keys),
            "keys_file_exists": keys is not None and keys.exists(), "instances": instances,
            "providers": _providers(registry), "registry": _registry_wide(registry)}


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return " ".join(f"{key}={inner}" for key, inner in value.items())
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "-"
    return "-" if value is None else str(value)


def cmd_config(args: argparse.Namespace) -> int:
    """Print the effective settings and where each came from."""
    from jackfield._cli.listing import print_json as _print_json
    from jackfield._cli.listing import table as _table

    data = effective()
    if args.json:
        _print_json(data)
        return 0
    print(f"config file: {data['config_file'] or 'none (set JACKFIELD_CONFIG to use one)'}")
    print(f"keys file:   {data['keys_file']}"
          + ("" if data["keys_file_exists"] else " (none yet: `jackfield keys set PROVIDER`)"))
    if data["instances"]:
        print("instances:   " + ", ".join(f"{name} (plugin {plugin})"
                                          for name, plugin in data["instances"].items()))
    rows = [(provider, name, _text(row["value"]), row["source"])
            for provider, settings in data["providers"].items()
            for name, row in settings.items()]
    if rows:
        print()
        print(_table(("PROVIDER", "SETTING", "VALUE", "SOURCE"), rows))
    print()
    # The value last: a policy's fields make it long.
    print(_table(("SETTING", "SOURCE", "VALUE"),
                 [(name, row["source"], _text(row["value"]))
                  for name, row in data["registry"].items()]))
    return 0
