"""Running the app as `jackfield serve` does: bounded connections, header time and error noise.

aiohttp's own server waits an hour for a request's headers, accepts connections until the
file limit, answers its parser errors in text/plain with a traceback in the log, and logs
every failed accept(). Here a connection must deliver its headers within header_timeout
(aiohttp's keep-alive timer, which also runs before the first request), at most
max_connections are open (at the cap, the oldest idle one makes room, else the newcomer gets
a 503), parser errors are JSON and one log line, and accept errors are logged once a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from jackfield._server.errors import ApiError, error_body, error_response

__all__ = ["DEFAULT_HEADER_TIMEOUT", "DEFAULT_MAX_CONNECTIONS", "serving"]

log = logging.getLogger("jackfield._server")
DEFAULT_HEADER_TIMEOUT = 30.0
DEFAULT_MAX_CONNECTIONS = 1024
# File descriptors kept free beyond the client cap: upstream connections, logs, images.
FD_RESERVE = 128
# After the app's own grace period (jackfield._server.shutdown), what is left is cut.
_SHUTDOWN_TIMEOUT = 2.0
_ACCEPT_LOG_INTERVAL = 60.0
_BUSY = json.dumps(error_body(ApiError(
    503, "server_error", "too_many_connections",
    "The server has too many open connections; retry shortly."))).encode()
_BUSY_REPLY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
               b"Retry-After: 1\r\nConnection: close\r\nContent-Length: "
               + str(len(_BUSY)).encode() + b"\r\n\r\n" + _BUSY)


# What aiohttp complains about when a client sent bad bytes or went away (not a bug here).
_CLIENT_FAULTS = (HttpProcessingError, RequestPayloadError, ConnectionError)


def _first_line(text: object) -> str:
    lines = str(text).strip().splitlines()
    return lines[0].rstrip(":") if lines else ""


class _Connections:
    """The open client connections in the order they came, and which are inside a request."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.open: dict[web.RequestHandler, None] = {}  # ordered: oldest first
        self.busy: set[object] = set()

    def make_room(self) -> bool:
        """Return True if a new connection fits, closing the oldest idle one if needed."""
        if len(self.open) < self.cap:
            return True
        for handler in self.open:
            transport = handler.transport
            if handler not in self.busy and (transport is None
                                             or not transport.get_write_buffer_size()):
                self.open.pop(handler)
                handler.force_close()
                return True
        return False

    @web.middleware
    async def track(self, request: web.Request,
                    handler: Callable[[web.Request], Any]) -> web.StreamResponse:
        """Mark the connection busy while its request is handled: it is not idle then."""
        self.busy.add(request.protocol)
        try:
            response: web.StreamResponse = await handler(request)
            return response
        finally:
            self.busy.discard(request.protocol)


class _Handler(web.RequestHandler):
    """aiohttp's connection handler with JSON parser errors and one-line logs."""

    def __init__(self, connections: _Connections, manager: web.Server, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._connections = connections

    def connection_lost(self, exc: BaseException | None) -> None:
        self._connections.open.pop(self, None)
        super().connection_lost(exc)

    def handle_error(self, request: Any, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        """Answer a request aiohttp could not parse (or a bug) in the JSON error shape."""
        reason = _first_line(message or exc or "")
        if status >= 500:  # not the client's bytes: a bug, which keeps its traceback
            log.error("unexpected error serving %s", request.remote, exc_info=exc)
        else:
            log.info("refused a malformed request from %s: %s", request.remote, reason)
        if request.writer.output_size > 0:
            raise ConnectionError("the reply had begun; the connection is cut instead")
        if status >= 500:
            error = ApiError(status, "server_error", "internal_error",
                             "Internal server error; the server log has the details.")
        else:
            error = ApiError(status, "invalid_request_error", "bad_http_request",
                             f"The request is not valid HTTP: {reason}.")
        response = error_response(error)
        response.force_close()
        return response

    def log_exception(self, *args: Any, **kwargs: Any) -> None:
        """Log what a client's bytes caused as one line; a bug keeps its traceback."""
        exc = kwargs.get("exc_info")
        if not isinstance(exc, _CLIENT_FAULTS):
            super().log_exception(*args, **kwargs)
            return
        text = (args[0] % args[1:]) if args else "error"
        log.warning("%s: %s", text, _first_line(exc) or type(exc).__name__)


class _Refuse(asyncio.Protocol):
    """A connection over the cap: a 503 and closed at once, so its descriptor is freed."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if isinstance(transport, asyncio.WriteTransport):
            transport.write(_BUSY_REPLY)
        transport.close()


def _rate_limited_accept_errors(loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
    """Log "accept() out of resources" once a minute with a count; return the undo."""
    previous = loop.get_exception_handler()
    last, suppressed = -_ACCEPT_LOG_INTERVAL, 0

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        nonlocal last, suppressed
        if not str(context.get("message", "")).startswith("socket.accept() out of system"):
            if previous is not None:
                previous(loop, context)
            else:
                loop.default_exception_handler(context)
            return
        now = time.monotonic()
        if now - last < _ACCEPT_LOG_INTERVAL:
            suppressed += 1
            return
        log.error("cannot accept connections: %s (%d more such errors since the last line; "
                  "raise the file limit, ulimit -n, or lower --max-connections)",
                  context.get("exception"), suppressed)
        last, suppressed = now, 0

    loop.set_exception_handler(handle)
    return lambda: loop.set_exception_handler(previous)


def _fit_to_file_limit(cap: int) -> int:
    """Raise the soft file limit toward cap + FD_RESERVE, or lower the cap to what fits."""
    try:
        import resource
    except ImportError:  # Windows: no such limit to meet
        return cap
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = cap + FD_RESERVE
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        if soft < wanted:
            fitted = max(1, soft - FD_RESERVE)
            log.warning("the file limit (%d) leaves room for %d client connections, not %d",
                        soft, fitted, cap)
            return fitted
    return cap


@contextlib.asynccontextmanager
async def serving(app: web.Application, host: str = "127.0.0.1", port: int = 0, *,
                  header_timeout: float = DEFAULT_HEADER_TIMEOUT,
                  max_connections: int = DEFAULT_MAX_CONNECTIONS,
                  sock: socket.socket | None = None) -> AsyncIterator[str]:
    """Serve app on host:port (or on sock, a listening socket: a worker's inherited one)
    until the block ends; yield its base URL."""
    if not header_timeout > 0 or max_connections < 1:
        raise ValueError("header_timeout and max_connections must be positive")
    connections = _Connections(_fit_to_file_limit(max_connections))
    app.middlewares.insert(0, connections.track)
    # keepalive_timeout bounds the wait for a request's headers: aiohttp closes a connection
    # whose next request has not fully arrived when it expires, the first one included.
    options: dict[str, Any] = {"keepalive_timeout": header_timeout, "access_log": None}
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=_SHUTDOWN_TIMEOUT,
                           **options)
    await runner.setup()
    server = runner.server
    assert server is not None  # setup() made it
    loop = asyncio.get_running_loop()
    handler_options = options | {"loop": loop}

    def accept() -> asyncio.Protocol:
        if not connections.make_room():
            return _Refuse()
        handler = _Handler(connections, server, **handler_options)
        connections.open[handler] = None
        return handler

    restore = _rate_limited_accept_errors(loop)
    listener: asyncio.Server | None = None
    try:
        listener = await (loop.create_server(accept, sock=sock) if sock is not None
                          else loop.create_server(accept, host, port))
        bound_port = listener.sockets[0].getsockname()[1]
        shown = f"[{host}]" if ":" in host else host  # an IPv6 literal needs brackets in a URL
        yield f"http://{shown}:{bound_port}"
    finally:
        if listener is not None:
            listener.close()  # no new connections while the open ones finish
        await runner.cleanup()
        if listener is not None:
            await listener.wait_closed()
        restore()
