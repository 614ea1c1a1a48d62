"""Types and a raw HTTP helper shared by the server tests."""

from __future__ import annotations

import asyncio
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


async def exchange(url: str, request: bytes, timeout: float = 10) -> tuple[int, dict[str, str],
                                                                           bytes]:
    """Send raw bytes on a new connection; return the status, headers and body of the reply.

    The request should say `Connection: close`: the reply is read to the end of the stream.
    """
    host, port = url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request)
        await writer.drain()
        reply = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, body = reply.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


def post_bytes(body: bytes, *headers: str, path: str = "/v1/chat/completions",
               host: str = "127.0.0.1") -> bytes:
    """Return a raw POST of body with the given header lines, closing the connection after."""
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}",
             "Connection: close", *headers]
    return "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + body
