"""The last live probe of each model (`jackfield probe`), kept in the user's cache directory.

probes.json sits next to the models cache (jackfield._cli.listing_cache): in
$JACKFIELD_CACHE_DIR, else platformdirs' user cache directory. It maps "provider/model"
(or "provider" for a provider probed as a whole, one with no model to probe) to the last
outcome: {"status", "error", "message", "latency", "probed_at", "last_success", "kind"}.

It is a cache, not a setting: a file that cannot be read, is not JSON or is of another
format is treated as empty, with a warning (the next probe writes a good one), never as an
error. It is written atomically (userfiles.write_json), merged with what is there, so that
`jackfield probe` in one shell and `jackfield serve --probe-every` in another both keep
their results. The messages were masked before they got here: the file holds no secret.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["PROBES_FILE", "STATUSES", "default_path", "load", "save"]

PROBES_FILE = "probes.json"
CACHE_DIR_ENV = "JACKFIELD_CACHE_DIR"
# Bump when an entry changes shape: a file of another format is ignored, not misread.
_FORMAT = 1
# What is stored: a model that answered, one that failed, one not configured to be called.
STATUSES = ("works", "failing", "needs credentials")
_FIELDS: Mapping[str, tuple[type, ...]] = {
    "status": (str,), "kind": (str,), "error": (str, type(None)), "message": (str, type(None)),
    "latency": (int, float, type(None)), "probed_at": (int, float),
    "last_success": (int, float, type(None)),
}

log = logging.getLogger("jackfield")


def default_path(environ: Mapping[str, str] | None = None, *, real: bool = True) -> Path | None:
    """Return where probes are kept: $JACKFIELD_CACHE_DIR, else (real: environ is the
    process's own) the user cache directory; None when no user state is read, as for
    `Registry(environ={})`."""
    environ = os.environ if environ is None else environ
    if environ.get(CACHE_DIR_ENV):
        return Path(environ[CACHE_DIR_ENV]).expanduser() / PROBES_FILE
    if not real:
        return None
    import platformdirs  # here: only a registry that reads the real environment needs it

    return Path(platformdirs.user_cache_dir("jackfield", appauthor=False)) / PROBES_FILE


def _valid(entry: Any) -> bool:
    return (isinstance(entry, dict) and entry.get("status") in STATUSES
            and all(isinstance(entry.get(name), types) for name, types in _FIELDS.items()))


def load(path: Path | str | None) -> tuple[dict[str, dict[str, Any]], str | None]:
    """Return (key -> entry, a warning or None). A missing file is no probe yet; a corrupt
    one, or one of another format, is no probe either, and the warning says so."""
    import json

    if path is None:
        return {}, None
    try:
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
    except FileNotFoundError:
        return {}, None
    except (OSError, ValueError) as error:
        return {}, (f"the probe results in {path} cannot be read ({error}); they are ignored "
                    "and rewritten by the next `jackfield probe`")
    entries = data.get("probes") if isinstance(data, dict) else None
    if not isinstance(entries, dict) or data.get("format") != _FORMAT:
        return {}, (f"{path} is not a probe file of format {_FORMAT}; it is ignored and "
                    "rewritten by the next `jackfield probe`")
    # An entry a hand edit broke is dropped alone: the others still count.
    return {key: entry for key, entry in entries.items()
            if isinstance(key, str) and _valid(entry)}, None


def save(path: Path | str | None, results: Mapping[str, Mapping[str, Any]]) -> str | None:
    """Merge results into the file atomically; return a warning if it could not be written
    (the probes were still made and returned: only remembering them failed)."""
    from jackfield._settings.userfiles import write_json

    if path is None or not results:
        return None
    current, _problem = load(path)  # a corrupt file is replaced, its warning already given
    current.update({key: dict(entry) for key, entry in results.items()})
    try:
        write_json(Path(path), {"format": _FORMAT, "probes": current})
    except OSError as error:
        return (f"the probe results were not saved to {path} ({error.strerror or error}); "
                f"set {CACHE_DIR_ENV} to a writable directory")
    return None
