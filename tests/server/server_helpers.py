"""Types and a raw HTTP helper shared by the server tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import openai

StartServer = Callable[..., Awaitable[str]]
MakeClient = Callable[..., openai.AsyncOpenAI]


async def raw(method: str, url: str, *, data: bytes | None = None,
              headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    """Send one request with aiohttp; return status, headers and the JSON body."""
    async with aiohttp.ClientSession() as session, session.request(
            method, url, data=data, headers=headers) as response:
        return response.status, dict(response.headers), await response.json(content_type=None)
