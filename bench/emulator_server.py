"""Run the AmigoChat emulator on loopback in a process of its own, for the benchmark.

The emulator gets its own process (and so its own CPU and event loop): a client measured in
the same event loop would be charged for the server's work. The process prints one JSON line,
{"url": "http://127.0.0.1:PORT"}, once it listens, and runs until stdin closes.

--pace SECONDS sleeps that long before each write of an SSE reply. It exists for the memory
benchmark only (1,000 streams must stay open while resident memory is sampled) and is the
harness's doing: the emulator's checks are untouched, only its writes are slowed, and only in
the separate paced instance. The emulator offers no pacing of its own.

GET /_bench/stats answers how many requests were answered with each status, so that the
benchmark can see refusals and silent retries (g4f retries every failure three times).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from typing import Any

from aiohttp import web

from jackfield_amigochat.emulator import create_app


def pace_event_streams(seconds: float) -> None:
    """Make every text/event-stream response of this process sleep before each write."""
    original = web.StreamResponse.write

    async def paced_write(self: web.StreamResponse, data: Any) -> None:
        if self.content_type == "text/event-stream":
            await asyncio.sleep(seconds)
        await original(self, data)

    web.StreamResponse.write = paced_write  # type: ignore[method-assign]


def counted_app() -> web.Application:
    """Return the emulator app with a status counter and GET /_bench/stats added."""
    app = create_app()
    statuses: Counter[int] = Counter()

    @web.middleware
    async def count_statuses(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path == "/_bench/stats":
            return web.json_response({str(k): v for k, v in statuses.items()})
        try:
            response: web.StreamResponse = await handler(request)
        except web.HTTPException as error:
            statuses[error.status] += 1
            raise
        statuses[response.status] += 1
        return response

    app.middlewares.insert(0, count_statuses)
    return app


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pace", type=float, default=0.0,
                        help="seconds to sleep before each SSE write (memory benchmark only)")
    args = parser.parse_args()
    if args.pace > 0:
        pace_event_streams(args.pace)
    # As jackfield.testing.serve_app runs it, but with a backlog deep enough for 1,000
    # connections opened at once (aiohttp's default of 128 would drop SYNs and add seconds).
    runner = web.AppRunner(counted_app(), handler_cancellation=True, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
    await site.start()
    try:
        host, port = runner.addresses[0][:2]
        print(json.dumps({"url": f"http://{host}:{port}"}), flush=True)
        # Run until the benchmark closes our stdin (or dies and the pipe closes with it).
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
