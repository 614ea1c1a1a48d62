"""One `serve --workers` worker, for the multiprocess test: serve the metered mock provider
with metrics on, make N chat requests through the server, print its /metrics scrape."""

from __future__ import annotations

import asyncio
import sys

import aiohttp
from observekit import MeteredProvider

from jackfield import Registry
from jackfield._server import create_app
from jackfield._server.listen import serving
from jackfield.testing import serve_app
from mockprovider import MockServer


async def main(calls: int) -> None:
    async with serve_app(MockServer().app) as mock_url:
        registry = Registry([MeteredProvider()], config={"mock": {"base_url": mock_url}},
                            environ={})
        async with registry, serving(create_app(registry, metrics=True),
                                     max_connections=8) as url, aiohttp.ClientSession() as http:
            for _ in range(calls):
                async with http.post(f"{url}/v1/chat/completions", json={
                        "model": "mock/echo", "messages": [{"role": "user", "content": "hi"}]
                }) as reply:
                    assert reply.status == 200, await reply.text()
            async with http.get(f"{url}/metrics") as reply:
                sys.stdout.write(await reply.text())


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
