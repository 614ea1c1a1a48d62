"""The cache `jackfield models` answers from, so that listing models imports no engine.

Building a Registry (attrs, pluggy, every plugin) is most of `jackfield models`' start-up,
yet its answer only changes when what it is built from changes. So the answer is kept in
models.json in the user cache directory ($JACKFIELD_CACHE_DIR, else platformdirs'), under a
fingerprint of everything it is built from, taken without importing jackfield._engine's
registry:

- the `jackfield` entry points (name, value, distribution and version) and the mtime of
  every sys.path directory (an install or uninstall changes the one it writes to);
- the size and mtime of every .py file of each plugin's package and of jackfield itself
  (an editable install whose code changes);
- jackfield's version and sys.executable;
- the JACKFIELD_* variables that shape a listing by value (JACKFIELD_LOAD_PLUGINS,
  JACKFIELD_ROUTES, JACKFIELD_CONFIG, JACKFIELD_CONFIG_DIR, every *_BASE_URL), every other
  one by name only, and the config file's absolute path, size and mtime (provider_order and
  routes change the listing).

Only a hash of the fingerprint is written, and credentials (a token, a cookie) are not even
in what is hashed: an unsalted hash of a short secret could be guessed back. The keys file
counts by its size and mtime only (a key set may let a service list its models).

A listing that asked services (providers with `jackfield_discover_models`) also has an
age: it is used until `expires`, the discovery TTL after it was made ([discovery] ttl in
the config file, which the fingerprint covers). A listing in which a service did not
answer holds the static list for it and the warning, and is kept only for the discovery
`retry` period (15 s by default): runs close together stay fast and say the same, and the
service is asked again soon after. A cache that cannot be read or parsed is a miss; one
that cannot be written is skipped.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from typing import Any

from jackfield import __version__

__all__ = ["CACHE_DIR_ENV", "Listing", "cache_path", "fingerprint", "load", "store"]

CACHE_DIR_ENV = "JACKFIELD_CACHE_DIR"
CACHE_FILE = "models.json"
# Bump when what is stored changes shape. 2: each model holds its capabilities; a format-1
# cache, without them, is a miss rather than a listing of models that seem to do nothing.
# 3: a listing has the discovery warnings and when it expires (None: when the fingerprint
# changes), and route groups are among its models.
_FORMAT = 3
_KEPT = 4  # listings kept, newest last

# The provider names in routing order, every model as ModelInfo.to_dict() gives it (route
# groups included), and provider -> why its listed models may be out of date.
Listing = tuple[list[str], list[dict[str, Any]], dict[str, str]]


def cache_path() -> str:
    """Return where the listing cache is: $JACKFIELD_CACHE_DIR, else the user cache dir."""
    folder = os.environ.get(CACHE_DIR_ENV)
    if not folder and sys.platform.startswith("linux"):
        # The XDG rule platformdirs follows there, without its ~17 ms import (a quarter of a
        # cached listing); tests/cli/test_cli_listing_cache.py holds the two to one answer.
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        folder = os.path.join(xdg if os.path.isabs(xdg) else os.path.expanduser("~/.cache"),
                              "jackfield")
    if not folder:
        import platformdirs  # here: only the real user's cache directory needs it

        folder = platformdirs.user_cache_dir("jackfield", appauthor=False)
    return os.path.join(os.path.expanduser(folder), CACHE_FILE)


def _stat(path: str) -> list[int] | None:
    try:
        result = os.stat(path)
    except OSError:
        return None
    return [result.st_mtime_ns, result.st_size]


def _sources(directory: str) -> list[Any]:
    """Return (path, mtime, size) of every .py file under a package directory."""
    found: list[Any] = []
    pending = [directory]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name != "__pycache__":
                    pending.append(entry.path)
            elif entry.name.endswith(".py"):
                info = entry.stat()
                found.append((entry.path, info.st_mtime_ns, info.st_size))
    return sorted(found)


def _package(module: str) -> list[Any]:
    """Return the sources of the top-level package of module, found without importing it."""
    top = module.partition(".")[0]
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return [top, None]
    if spec is None:
        return [top, None]
    locations = list(spec.submodule_search_locations or ())
    if not locations:  # a single-module plugin
        return [top, spec.origin, _stat(spec.origin) if spec.origin else None]
    return [top, [_sources(location) for location in locations]]


_LISTING_VARIABLES = frozenset({"JACKFIELD_LOAD_PLUGINS", "JACKFIELD_ROUTES", "JACKFIELD_CONFIG",
                                "JACKFIELD_CONFIG_DIR"})


def _shapes_listing(variable: str) -> bool:
    """Return True for a variable whose value may change the listing (never a credential)."""
    return variable in _LISTING_VARIABLES or variable.endswith("_BASE_URL")


def _keys_file() -> list[int] | None:
    """Return the keys file's mtime and size (never what it holds), found as userfiles
    finds it, without importing it."""
    folder = os.environ.get("JACKFIELD_CONFIG_DIR")
    if not folder and sys.platform.startswith("linux"):
        xdg = os.environ.get("XDG_CONFIG_HOME", "")  # platformdirs' rule, as in cache_path()
        folder = os.path.join(xdg if os.path.isabs(xdg) else os.path.expanduser("~/.config"),
                              "jackfield")
    if not folder:
        return None  # elsewhere platformdirs would cost more than it saves: the TTL bounds it
    return _stat(os.path.join(os.path.expanduser(folder), "keys.json"))


def fingerprint() -> str:
    """Return a hash of everything the model listing is built from."""
    import hashlib

    from jackfield._engine.entrypoints import entry_points

    found = sorted(entry_points("jackfield"), key=lambda ep: (ep.name, ep.value))
    config = os.environ.get("JACKFIELD_CONFIG") or None
    # Absolute paths: a relative config file or sys.path entry ('' under `python -c`) means
    # another file in another directory, while the `jackfield` script lists the same
    # models wherever it is run.
    parts = [
        _FORMAT, __version__, sys.executable,
        sorted((key, value if _shapes_listing(key) else None)
               for key, value in os.environ.items() if key.startswith("JACKFIELD_")),
        [os.path.abspath(config), _stat(config)] if config else None,
        _keys_file(),
        [(os.path.abspath(entry or "."), _stat(entry or ".")) for entry in sys.path],
        [list(entry_point) for entry_point in found],
        [_package(entry_point.value) for entry_point in found],
        _package("jackfield"),
    ]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _read(path: str) -> dict[str, Any]:
    """Return the cached listings by fingerprint; {} when missing, unreadable or corrupt."""
    try:
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
    except (OSError, ValueError):  # the cache is only a shortcut: build the listing again
        return {}
    entries = data.get("listings") if isinstance(data, dict) else None
    if not isinstance(entries, dict) or data.get("format") != _FORMAT:
        return {}
    return entries


def load(path: str, key: str) -> Listing | None:
    """Return the cached listing if path holds one made under fingerprint key that has not
    expired, else None."""
    entry = _read(path).get(key)
    if not isinstance(entry, dict):
        return None
    providers, models = entry.get("providers"), entry.get("models")
    warnings, made, expires = entry.get("warnings"), entry.get("made"), entry.get("expires")
    if not (isinstance(providers, list) and all(isinstance(p, str) for p in providers)
            and isinstance(models, list) and all(isinstance(m, dict)
                                                 and isinstance(m.get("capabilities"), dict)
                                                 for m in models)
            and isinstance(warnings, dict) and all(isinstance(w, str)
                                                   for w in warnings.values())
            and isinstance(made, int | float)):
        return None
    # A clock set back before the listing was made counts as expired too.
    if expires is not None and (not isinstance(expires, int | float)
                                or not made <= time.time() < expires):
        return None
    return providers, models, warnings


def store(path: str, key: str, listing: Listing, lifetime: float | None = None) -> None:
    """Add the listing to the cache atomically (a reader sees the old file or the new).

    lifetime: seconds it may be used (None: until the fingerprint changes). The last few
    fingerprints are kept: `jackfield` and `python -m jackfield` see different sys.path,
    and must not keep evicting each other's listing.
    """
    import tempfile

    providers, models, warnings = listing
    made = time.time()
    entries = {k: v for k, v in _read(path).items() if k != key}
    entries = dict(list(entries.items())[-(_KEPT - 1):]) | {
        key: {"providers": providers, "models": models, "warnings": warnings, "made": made,
              "expires": None if lifetime is None else made + lifetime}}
    directory = os.path.dirname(path)
    try:
        os.makedirs(directory, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=".models-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                json.dump({"format": _FORMAT, "listings": entries}, file)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError as error:
        # The cache only saves time: a read-only or full disk must not fail `jackfield models`.
        print(f"jackfield: the model list was not cached ({error}); set {CACHE_DIR_ENV} to a "
              "writable directory", file=sys.stderr)
