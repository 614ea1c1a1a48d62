"""What the probe tests share: the seed plugins, a request log with arrival times on each
emulator (to check the rate), and the Services the fixtures serve."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from aiohttp import web

import jackfield_aichats
import jackfield_amigochat
import jackfield_openai
from jackfield import Registry

COOKIE = "session=probe-cookie"
API_KEY = "sk-probe-0123456789abcdef"
PLUGINS = (jackfield_aichats, jackfield_amigochat, jackfield_openai)
# Two models of amigochat's many: a probe of each of its 37 would only take longer.
AMIGO_MODELS = ["gpt-4o-mini", "flux-realism"]
_ARRIVALS = web.AppKey("probe_arrivals", list)


def arrivals(app: web.Application) -> list[tuple[float, str]]:
    """Return (monotonic time, path) of every request the emulator saw."""
    return app[_ARRIVALS]


def protocol_requests(app: web.Application) -> int:
    """Return the requests that were probes (a model listing is not one)."""
    return sum(1 for _, path in arrivals(app) if not path.endswith("/models"))


def with_arrivals(app: web.Application) -> web.Application:
    app[_ARRIVALS] = []

    @web.middleware
    async def note(request: web.Request, handler: Any) -> web.StreamResponse:
        app[_ARRIVALS].append((time.monotonic(), request.path))
        return await handler(request)

    app.middlewares.insert(0, note)
    return app


@attrs.frozen
class Services:
    """The emulators and their URLs."""

    aichats: web.Application
    amigochat: web.Application
    openai: web.Application
    urls: dict[str, str]


MakeProbed = Callable[..., Registry]


CLI = [sys.executable, "-m", "jackfield"]
LOADED = "jackfield-aichats,jackfield-amigochat,jackfield-openai"


def cli_environ(services: Services, folder: Path, **extra: str) -> dict[str, str]:
    """Return an environment for `jackfield` over the emulators, its state under folder
    (none of the caller's own JACKFIELD_* settings)."""
    config = folder / "jackfield.toml"
    config.write_text(f"[providers.amigochat]\nmodels = {AMIGO_MODELS!r}\n".replace("'", '"'))
    environ = {k: v for k, v in os.environ.items() if not k.startswith("JACKFIELD_")}
    environ.update({
        "JACKFIELD_LOAD_PLUGINS": LOADED, "PYTHONUNBUFFERED": "1",
        "JACKFIELD_CONFIG": str(config), "JACKFIELD_CONFIG_DIR": str(folder / "config"),
        "JACKFIELD_CACHE_DIR": str(folder / "cache"), "JACKFIELD_LOGS": str(folder / "logs.db"),
        "JACKFIELD_AICHATS_BASE_URL": services.urls["aichats"],
        "JACKFIELD_AICHATS_COOKIE": COOKIE,
        "JACKFIELD_AMIGOCHAT_BASE_URL": services.urls["amigochat"],
        "JACKFIELD_OPENAI_BASE_URL": services.urls["openai"],
        "JACKFIELD_OPENAI_API_KEY": API_KEY, **extra})
    return environ


async def run_cli(environ: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run `jackfield ARGS` in a thread, so that the emulators of this loop keep answering."""
    return await asyncio.to_thread(subprocess.run, [*CLI, *args], capture_output=True,
                                   text=True, env=environ, timeout=60)
