"""What the probe tests share: the seed plugins, a request log with arrival times on each
emulator (to check the rate), and the Services the fixtures serve."""

from __future__ import annotations

import time
from collections.abc import Callable
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
