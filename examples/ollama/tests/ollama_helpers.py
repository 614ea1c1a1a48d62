"""What the ollama example's tests share: a registry pointed at a running emulator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jackfield_ollama_example
from aiohttp import web
from jackfield_ollama_example.emulator import SHELF_KEY, create_app
from jackfield_ollama_example.shelf import Shelf

from jackfield import Registry
from jackfield.testing import STATS_KEY, EmulatorStats, RegistryFactory, ServeApp

SPEC = jackfield_ollama_example.jackfield_provider()
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass
class Ollama:
    """A running emulator and a registry with only the ollama plugin, pointed at it."""

    registry: Registry
    app: web.Application
    url: str

    @property
    def shelf(self) -> Shelf:
        """The models the emulated server has: pull or remove them while it runs."""
        return self.app[SHELF_KEY]

    @property
    def stats(self) -> EmulatorStats:
        """What the emulator saw: requests by path, the last body and headers."""
        return self.app[STATS_KEY]


async def start(serve_app: ServeApp, make_registry: RegistryFactory,
                app: web.Application | None = None, **registry_kwargs: Any) -> Ollama:
    """Start the emulator (or app) and return it with a registry of the ollama plugin."""
    app = app if app is not None else create_app()
    url = await serve_app(app)
    registry = make_registry([jackfield_ollama_example], base_urls={"ollama": url},
                             **registry_kwargs)
    return Ollama(registry, app, url)
