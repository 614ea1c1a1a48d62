"""What the echoapi tests share: the token the emulator expects and a registry pointed at it."""

from __future__ import annotations

from aiohttp import web

import jackfield_echoapi
from jackfield import Registry
from jackfield.testing import RegistryFactory, ServeApp
from jackfield_echoapi.emulator import create_app

TOKEN = "s3cret-token"


async def echo_registry(serve_app: ServeApp, make_registry: RegistryFactory,
                        app: web.Application | None = None) -> tuple[Registry, web.Application]:
    """Start the emulator (or app) and return a registry with only the echoapi plugin."""
    app = app if app is not None else create_app(token=TOKEN)
    url = await serve_app(app)
    registry = make_registry([jackfield_echoapi], base_urls={"echoapi": url},
                             config={"echoapi": {"token": TOKEN}})
    return registry, app
