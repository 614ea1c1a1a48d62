"""The OpenAI-compatible HTTP server (`jackfield serve`): create_app(registry) -> aiohttp app.

Importing this package imports aiohttp; the command line imports it only for `serve`.
"""

from __future__ import annotations

from jackfield._server.app import DEFAULT_MAX_BODY_BYTES, REGISTRY_KEY, create_app
from jackfield._server.auth import API_KEY_ENV

__all__ = ["API_KEY_ENV", "DEFAULT_MAX_BODY_BYTES", "REGISTRY_KEY", "create_app"]
