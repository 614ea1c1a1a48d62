"""A route of the server's, with the error shape of the wire format it speaks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import attrs
from aiohttp import web

from jackfield._server.errors import OPENAI_ERRORS, ErrorShape

__all__ = ["Route"]


@attrs.frozen
class Route:
    """`method path` answered by handler; errors on it (and under it) take the shape of
    `errors`. Each wire format's module lists its routes as a ROUTES tuple of these, which
    create_app() adds in the order given."""

    method: str
    path: str
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    errors: ErrorShape = OPENAI_ERRORS
