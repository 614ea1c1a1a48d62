"""The installed `jackfield` entry points, found without importing importlib.metadata.

importlib.metadata pulls in email, zipfile, csv, socket and datetime: about a fifth of
`jackfield models`' start-up, to read a few small text files. For the common layout (plain
directories on sys.path holding *.dist-info and *.egg-info directories) this module reads
those files itself, with importlib.metadata's rules: sys.path order, the first distribution
of a name wins, the entry_points.txt format. Anything else on sys.path (a zip file, an .egg)
falls back to importlib.metadata itself. tests/core/test_entrypoints.py holds the two to the
same answer.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Iterable
from typing import NamedTuple

__all__ = ["FoundEntryPoint", "entry_points"]

_SUFFIXES = (".dist-info", ".egg-info")
_VALUE = re.compile(r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((?P<extras>\[.*\])\s*)?$")


class FoundEntryPoint(NamedTuple):
    """One entry point and the distribution that declares it."""

    name: str
    value: str
    dist_name: str | None
    version: str | None

    def load(self) -> object:
        """Import the module the entry point names and return it or its attribute."""
        match = _VALUE.match(self.value)
        if match is None:
            raise ValueError(f"entry point {self.name!r} has a malformed value {self.value!r}")
        loaded: object = importlib.import_module(match.group("module"))
        for attribute in filter(None, (match.group("attr") or "").split(".")):
            loaded = getattr(loaded, attribute)
        return loaded


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _section(text: str, group: str) -> list[tuple[str, str]]:
    """Return the `name = value` lines of [group] in an entry_points.txt."""
    found: list[tuple[str, str]] = []
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
        elif current == group and "=" in line:
            name, _, value = line.partition("=")
            found.append((name.strip(), value.strip()))
    return found


def _headers(directory: str) -> tuple[str | None, str | None]:
    """Return the Name and Version of a distribution's METADATA (or an egg's PKG-INFO)."""
    name = version = None
    for filename in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(directory, filename), encoding="utf-8") as file:
                for line in file:
                    if not line.strip():
                        break  # the headers end at the first blank line
                    key, _, value = line.partition(":")
                    if key == "Name" and name is None:
                        name = value.strip()
                    elif key == "Version" and version is None:
                        version = value.strip()
            return name, version
        except FileNotFoundError:
            continue
    return name, version


def _slow(group: str) -> list[FoundEntryPoint]:
    import importlib.metadata

    return [FoundEntryPoint(ep.name, ep.value, ep.dist.name if ep.dist else None,
                            ep.dist.version if ep.dist else None)
            for ep in importlib.metadata.entry_points(group=group)]


def _scan(paths: Iterable[str], group: str) -> list[FoundEntryPoint] | None:
    """Return the group's entry points, or None where only importlib.metadata can tell."""
    found: list[FoundEntryPoint] = []
    seen: set[str] = set()
    for entry in paths:
        directory = entry or "."
        if not os.path.isdir(directory):
            if os.path.exists(directory):
                return None  # a zip file or the like
            continue
        if directory.lower().endswith(".egg"):
            return None
        try:
            children = sorted(os.listdir(directory))
        except OSError:
            continue
        for child in children:
            if not child.lower().endswith(_SUFFIXES):
                continue
            key = _normalize(child.rpartition(".")[0].split("-")[0])
            if key in seen:
                continue  # an earlier sys.path entry has this distribution: it wins
            seen.add(key)
            info = os.path.join(directory, child)
            try:
                with open(os.path.join(info, "entry_points.txt"), encoding="utf-8") as file:
                    lines = _section(file.read(), group)
            except (FileNotFoundError, NotADirectoryError):
                continue
            if lines:
                dist_name, version = _headers(info)
                found += [FoundEntryPoint(name, value, dist_name, version)
                          for name, value in lines]
    return found


def entry_points(group: str) -> list[FoundEntryPoint]:
    """Return the entry points of group in every installed distribution."""
    scanned = _scan(sys.path, group)
    return _slow(group) if scanned is None else scanned
