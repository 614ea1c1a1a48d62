"""Named server keys: each stored as its SHA-256, with optional limits and a model allow-list.

A key is made by `jackfield serve-keys add NAME` (printed once, never stored), and its hash
kept in the keys file (JSON, `$JACKFIELD_SERVER_KEYS` or `server_keys.json` in the user
config directory) or written by hand in the config file:

    [server_keys.alice]
    sha256 = "<hex digest of the key>"
    rpm = 60            # requests per minute (optional)
    tpm = 100000        # tokens per minute, prompt and completion (optional)
    concurrent = 4      # calls in flight at once, streams included (optional)
    models = ["aichats/*", "any-dalle"]   # names or fnmatch patterns the key may call

A request's key is hashed and compared with every stored hash in constant time; the name,
never the key, is what logs, metrics and Redis see. The limits are enforced by
jackfield._server.key_limits.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from jackfield._errors import ConfigurationError

__all__ = ["KEY_PREFIX", "SERVER_KEYS_ENV", "KeyRing", "ServerKey", "add_key", "hash_key",
           "keys_path", "parse_keys", "read_keys_file", "remove_key"]

SERVER_KEYS_ENV = "JACKFIELD_SERVER_KEYS"
KEYS_FILE = "server_keys.json"
KEY_PREFIX = "jfk-"  # says what a leaked string is, and lets secret scanners find it
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_HEX = re.compile(r"[0-9a-f]{64}")
_LIMITS = ("rpm", "tpm", "concurrent")
_FIELDS = ("sha256", *_LIMITS, "models")


def hash_key(key: str) -> str:
    """Return the hex SHA-256 of key, as the keys file stores it."""
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


def _positive(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(f"{where} must be a whole number of 1 or more, got {value!r}.")
    return value


@attrs.frozen
class ServerKey:
    """One named key: its hash, its limits (None: none) and the models it may call."""

    name: str
    sha256: str = attrs.field(repr=False)
    rpm: int | None = None
    tpm: int | None = None
    concurrent: int | None = None
    models: tuple[str, ...] | None = None  # None: every model

    @property
    def limited(self) -> bool:
        """Return True if any limit or allow-list applies."""
        return any(getattr(self, name) is not None for name in (*_LIMITS, "models"))

    def allows(self, model: str) -> bool:
        """Return True if the key may call model (a name or fnmatch pattern matches)."""
        return self.models is None or any(
            pattern == model or fnmatch.fnmatchcase(model, pattern) for pattern in self.models)

    def to_table(self) -> dict[str, Any]:
        """Return the key's table as the keys file stores it (no None values)."""
        table: dict[str, Any] = {"sha256": self.sha256}
        table.update({name: getattr(self, name) for name in _LIMITS
                      if getattr(self, name) is not None})
        if self.models is not None:
            table["models"] = list(self.models)
        return table


def _check_name(name: str, where: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigurationError(f"{where}: a key's name is 1-64 letters, digits, '_', '.' or "
                                 f"'-' (starting with a letter or digit), got {name!r}.")
    return name


def parse_keys(tables: Any, where: str) -> list[ServerKey]:
    """Check a `server_keys` table (name -> fields) from the keys file or the config file."""
    if not isinstance(tables, Mapping):
        raise ConfigurationError(f"{where}: server_keys must map a name to a table, e.g. "
                                 '[server_keys.alice] sha256 = "...".')
    keys = []
    for name, table in tables.items():
        at = f"{where} [server_keys.{name}]"
        _check_name(name, where)
        if not isinstance(table, Mapping):
            raise ConfigurationError(f"{at} must be a table of {', '.join(_FIELDS)}.")
        unknown = sorted(set(table) - set(_FIELDS))
        if unknown:
            raise ConfigurationError(f"{at}: unknown key(s) {', '.join(unknown)}; accepted: "
                                     f"{', '.join(_FIELDS)}.")
        digest = table.get("sha256")
        if not isinstance(digest, str) or not _HEX.fullmatch(digest.lower()):
            raise ConfigurationError(f"{at}: sha256 must be the key's 64-digit hex SHA-256 "
                                     "(`jackfield serve-keys add` writes it), not the key.")
        models = table.get("models")
        if models is not None and (isinstance(models, str) or not isinstance(models, list)
                                   or not all(isinstance(m, str) and m for m in models)):
            raise ConfigurationError(f"{at}: models must be a list of model names or "
                                     f"patterns, e.g. [\"aichats/*\"], got {models!r}.")
        limits = {limit: _positive(table.get(limit), f"{at} {limit}") for limit in _LIMITS}
        keys.append(ServerKey(name, digest.lower(), **limits,
                              models=None if models is None else tuple(models)))
    return keys


def keys_path(environ: Mapping[str, str] | None = None) -> Path:
    """Return the keys file: $JACKFIELD_SERVER_KEYS, else server_keys.json in the user
    config directory."""
    from jackfield._settings.userfiles import config_dir

    environ = os.environ if environ is None else environ
    if environ.get(SERVER_KEYS_ENV):
        return Path(environ[SERVER_KEYS_ENV]).expanduser()
    folder = config_dir(environ)
    assert folder is not None  # real=True always gives one
    return folder / KEYS_FILE


def read_keys_file(path: Path, *, missing_ok: bool = True) -> list[ServerKey]:
    """Return the keys of a keys file ([] for none there, when missing_ok)."""
    from jackfield._settings.userfiles import read_json

    if not path.exists():
        if missing_ok:
            return []
        raise ConfigurationError(f"the keys file {path} does not exist; make a key with "
                                 "`jackfield serve-keys add NAME`.")
    data = read_json(path)
    return parse_keys(data.get("server_keys", {}), str(path))


def _write(path: Path, keys: Iterable[ServerKey]) -> None:
    from jackfield._settings.userfiles import write_json

    write_json(path, {"server_keys": {key.name: key.to_table() for key in keys}},
               private=True)


def add_key(path: Path, name: str, *, rpm: int | None = None, tpm: int | None = None,
            concurrent: int | None = None, models: Iterable[str] | None = None,
            replace: bool = False) -> str:
    """Make a new key called name, store its hash in the keys file; return the key (the only
    time it is seen)."""
    _check_name(name, "serve-keys add")
    keys = {key.name: key for key in read_keys_file(path)}
    if name in keys and not replace:
        raise ConfigurationError(f"{path} has a key named {name!r} already; pass --replace to "
                                 "make a new one in its place (the old one stops working).")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    limits = {limit: _positive(value, f"--{limit}") for limit, value in
              (("rpm", rpm), ("tpm", tpm), ("concurrent", concurrent))}
    keys[name] = ServerKey(name, hash_key(key), **limits,
                           models=None if models is None else tuple(models))
    _write(path, keys.values())
    return key


def remove_key(path: Path, name: str) -> None:
    """Remove the key called name from the keys file."""
    keys = {key.name: key for key in read_keys_file(path, missing_ok=False)}
    if keys.pop(name, None) is None:
        raise ConfigurationError(f"{path} has no key named {name!r}; known: "
                                 f"{', '.join(sorted(keys)) or 'none'}.")
    _write(path, keys.values())


class KeyRing:
    """The server's keys, and which one a request's key is."""

    def __init__(self, keys: Iterable[ServerKey]) -> None:
        self.keys = list(keys)
        names = [key.name for key in self.keys]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ConfigurationError(f"server key name(s) given twice: {', '.join(duplicates)}"
                                     " (in the keys file and the config file?)")
        self._digests = [(bytes.fromhex(key.sha256), key) for key in self.keys]

    def __bool__(self) -> bool:
        return bool(self.keys)

    def match(self, sent: str) -> ServerKey | None:
        """Return the key whose hash is sent's, comparing with every one in constant time."""
        digest = hashlib.sha256(sent.encode("utf-8", "surrogateescape")).digest()
        found = None
        for stored, key in self._digests:  # no early exit: the time says nothing of which
            if hmac.compare_digest(digest, stored):
                found = key
        return found
