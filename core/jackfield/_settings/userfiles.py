"""The user's own files in the config directory: keys.json (secrets) and settings.json.

keys.json holds provider secrets (`jackfield keys set`): {"amigochat": {"token": "..."}}.
It is created readable by its owner only (0600); one found readable by others is narrowed
back to 0600 with a warning. settings.json holds the command line's preferences (default
models). Both are written atomically: a crash leaves the old file or the new one, never half.

The directory is $JACKFIELD_CONFIG_DIR, else platformdirs' user config directory; a registry
given its own environ= mapping finds it only through that mapping's JACKFIELD_CONFIG_DIR, so
`Registry(environ={})` (the test kit's registries) reads no user state at all.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jackfield._errors import ConfigurationError

__all__ = ["CONFIG_DIR_ENV", "KEYS_FILE", "SETTINGS_FILE", "config_dir", "keys_path",
           "read_json", "read_keys", "write_json"]

CONFIG_DIR_ENV = "JACKFIELD_CONFIG_DIR"
KEYS_FILE = "keys.json"
SETTINGS_FILE = "settings.json"
PRIVATE = 0o600
_OTHERS = stat.S_IRWXG | stat.S_IRWXO

log = logging.getLogger("jackfield")


def config_dir(environ: Mapping[str, str] | None = None, *, real: bool = True) -> Path | None:
    """Return the user config directory: $JACKFIELD_CONFIG_DIR, else (real: environ is the
    process's own environment) platformdirs' user_config_dir("jackfield"); else None."""
    environ = os.environ if environ is None else environ
    if environ.get(CONFIG_DIR_ENV):
        return Path(environ[CONFIG_DIR_ENV]).expanduser()
    if not real:
        return None
    import platformdirs  # here: only registries reading the real environment need it

    return Path(platformdirs.user_config_dir("jackfield", appauthor=False))


def keys_path(environ: Mapping[str, str] | None = None, *, real: bool = True) -> Path | None:
    """Return where the keys file is (or would be); None when no user state is read."""
    folder = config_dir(environ, real=real)
    return None if folder is None else folder / KEYS_FILE


def _narrow(fd: int, path: Path) -> None:
    """Make a keys file readable by others private again, or refuse it if that fails."""
    if os.name == "nt":
        return  # no POSIX mode bits: the user profile's ACLs protect it
    mode = os.fstat(fd).st_mode
    if not mode & _OTHERS:
        return
    try:
        os.fchmod(fd, PRIVATE)
    except OSError as error:
        raise ConfigurationError(
            f"the keys file {path} is readable by other users and cannot be made private "
            f"({error.strerror}): run `chmod 600 {path}` as its owner.") from None
    log.warning("the keys file %s was readable by other users (mode %o); it is now 0600",
                path, stat.S_IMODE(mode))


def read_json(path: Path, *, private: bool = False) -> dict[str, Any]:
    """Return a user file's JSON object ({} if it does not exist); private: check its mode."""
    import json  # here: only a registry that finds a file pays for the parser

    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise ConfigurationError(f"cannot read {path}: {error.strerror}.") from None
    with os.fdopen(fd, "rb") as handle:
        if private:
            _narrow(handle.fileno(), path)
        try:
            data = json.loads(handle.read())
        except (OSError, ValueError) as error:
            # The decoder's message gives a position, never the text: no secret is quoted.
            raise ConfigurationError(
                f"{path} is not valid JSON ({error}): fix it, or delete it and set the values "
                "again.") from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path} must hold a JSON object; fix it or delete it.")
    return data


def read_keys(path: Path | None) -> dict[str, dict[str, str]]:
    """Return the keys file's provider -> setting -> value table ({} without a file)."""
    if path is None:
        return {}
    data = read_json(path, private=True)
    for provider, values in data.items():
        if not isinstance(values, dict) or not all(
                isinstance(name, str) and isinstance(value, str) for name, value in values.items()):
            raise ConfigurationError(
                f"{path}: the entry for {provider!r} must map setting names to text, e.g. "
                '{"token": "..."}; run `jackfield keys remove ' f'{provider}` and set it again.')
    return data


def write_json(path: Path, data: Mapping[str, Any], *, private: bool = False) -> None:
    """Replace path atomically with data as JSON; private files are created 0600."""
    import json

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    # Created with its final mode, so the secret is never readable by others, not even briefly.
    fd = os.open(temporary, flags, PRIVATE if private else 0o644)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            if private and os.name != "nt":
                os.fchmod(handle.fileno(), PRIVATE)  # a stale temporary may have had any mode
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)  # only still there when the write failed
