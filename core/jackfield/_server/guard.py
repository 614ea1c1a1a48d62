"""What keeps web pages from driving the server: the Host check, Origin check and CORS.

A page on any site can make the user's browser send requests to 127.0.0.1, and a page whose
name is rebound to 127.0.0.1 (DNS rebinding) can even read the replies. A browser always
sends the page's name in `Host` and a cross-origin page's `Origin`; neither can be forged by
the page. So, as Ollama and Jupyter do, a request is served only when its Host names this
machine's loopback, the address it arrived on, or a name the operator allowed, and a request
with an `Origin` only when the operator allowed that origin (no CORS headers otherwise).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from aiohttp import web
from aiohttp.typedefs import Middleware

from jackfield._server.chat_shapes import EMULATED_HEADER, WARNINGS_HEADER
from jackfield._server.errors import ApiError, Handler, error_response

__all__ = ["ALLOWED_HOSTS_ENV", "CORS_ORIGINS_ENV", "Guard", "split_names"]

ALLOWED_HOSTS_ENV = "JACKFIELD_ALLOWED_HOSTS"
CORS_ORIGINS_ENV = "JACKFIELD_CORS_ORIGINS"
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
_ANY = "*"
_CORS_METHODS = "GET, POST, OPTIONS"
# Anthropic's SDK sends its key and API version in headers of its own (a page using it sets
# anthropic-dangerous-direct-browser-access); a preflight must allow them.
_CORS_HEADERS = ("Authorization, Content-Type, x-api-key, anthropic-version, anthropic-beta, "
                 "anthropic-dangerous-direct-browser-access")
# A page reads only the reply headers it is allowed to: these say what a call did not do.
_CORS_EXPOSED = f"{WARNINGS_HEADER}, {EMULATED_HEADER}, Retry-After"


def split_names(text: str) -> list[str]:
    """Return the names of a comma- or space-separated list (an environment variable)."""
    return [name for name in text.replace(",", " ").split() if name]


def host_name(header: str) -> str:
    """Return the host of a Host header without its port: '[::1]:80' -> '::1'."""
    header = header.strip().lower()
    if header.startswith("["):
        name, _, _ = header[1:].partition("]")
        return name
    name, colon, port = header.rpartition(":")
    if colon and port.isdigit() and ":" not in name:
        return name.rstrip(".")
    return header.rstrip(".")


def _local_address(request: web.Request) -> str | None:
    """Return the IP address the connection arrived on (for a server on 0.0.0.0)."""
    transport = request.transport
    sockname = transport.get_extra_info("sockname") if transport is not None else None
    if isinstance(sockname, tuple) and sockname:
        return str(sockname[0])
    return None


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    address = ipaddress.ip_address(text)
    # A dual-stack socket reports an IPv4 client's connection as ::ffff:a.b.c.d.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _same_address(name: str, address: str | None) -> bool:
    if address is None:
        return False
    try:
        return _ip(name) == _ip(address)
    except ValueError:
        return False  # a name, not an address


class Guard:
    """The allowed Host names and CORS origins, and the middleware that enforces them."""

    def __init__(self, allowed_hosts: Iterable[str] = (), cors_origins: Iterable[str] = ()):
        self.hosts = frozenset(host_name(name) if name != _ANY else _ANY
                               for name in allowed_hosts)
        self.origins = frozenset(origin.rstrip("/").lower() for origin in cors_origins)

    def host_allowed(self, request: web.Request) -> bool:
        """Return True if the request's Host names this server (no Host: an old client)."""
        header = request.headers.get("Host")
        if header is None or _ANY in self.hosts:
            return True
        name = host_name(header)
        return (name in _LOOPBACK_NAMES or name in self.hosts
                or _same_address(name, _local_address(request)))

    def origin_allowed(self, origin: str) -> bool:
        return _ANY in self.origins or origin.rstrip("/").lower() in self.origins

    def middleware(self) -> Middleware:
        """Return the middleware: 403 for a foreign Host or Origin, CORS preflights answered."""
        @web.middleware
        async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
            if not self.host_allowed(request):
                return error_response(ApiError(
                    403, "invalid_request_error", "host_not_allowed",
                    f"This server does not answer to Host {request.headers['Host']!r} (a "
                    "protection against DNS rebinding). Allow the name with `jackfield serve "
                    f"--allowed-host NAME`, {ALLOWED_HOSTS_ENV} or "
                    "create_app(allowed_hosts=[...])."), request)
            origin = request.headers.get("Origin")
            if origin is not None and not self.origin_allowed(origin):
                return error_response(ApiError(
                    403, "invalid_request_error", "origin_not_allowed",
                    f"Requests from web pages at {origin!r} are refused. Allow the origin "
                    f"with `jackfield serve --cors-origin ORIGIN`, {CORS_ORIGINS_ENV} or "
                    "create_app(cors_origins=[...])."), request)
            if origin is not None and request.method == "OPTIONS":
                return web.Response(status=204, headers=self._cors_headers(origin) | {
                    "Access-Control-Allow-Methods": _CORS_METHODS,
                    "Access-Control-Allow-Headers": _CORS_HEADERS,
                    "Access-Control-Max-Age": "600"})
            return await handler(request)

        return guard

    def _cors_headers(self, origin: str) -> dict[str, str]:
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin",
                "Access-Control-Expose-Headers": _CORS_EXPOSED}

    async def add_cors_headers(self, request: web.Request,
                               response: web.StreamResponse) -> None:
        """on_response_prepare: name the allowed origin (the guard refused all others)."""
        origin = request.headers.get("Origin")
        if origin is not None and self.origin_allowed(origin):
            response.headers.update(self._cors_headers(origin))
