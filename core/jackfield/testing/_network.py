"""Keeping tests on loopback: an audit hook that refuses every TCP connection beyond this
machine, whatever library opens it (aiohttp, httpx, the openai SDK, a bare socket).

`only_loopback()` turns it on for a block and yields the list of refused addresses; the
`loopback_only` fixture fails the test that tried (even if it caught the error). Audit hooks
cannot be removed, so the hook is installed once and does nothing while no block is active.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import sys
import threading
from collections.abc import Iterator

__all__ = ["OffLoopbackError", "is_loopback", "only_loopback"]


class OffLoopbackError(ConnectionRefusedError):
    """A connection beyond loopback was attempted while only loopback is allowed."""


class _Guard:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.installed = False
        self.active = 0  # nested only_loopback() blocks
        self.refused: list[str] = []


_GUARD = _Guard()


def is_loopback(address: object) -> bool:
    """Return True for an address on this machine: 127.0.0.0/8, ::1 (also IPv4-mapped),
    "localhost", or a Unix socket path."""
    if isinstance(address, str | bytes):
        return True  # AF_UNIX path
    if not isinstance(address, tuple) or not address:
        return False
    host = address[0]
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if host == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        return False  # a host name: connect() is given the resolved address normally
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:127.0.0.1
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


def _audit(event: str, args: tuple[object, ...]) -> None:
    # Called for every audited event of the process: return at once for all others.
    if event != "socket.connect" or not _GUARD.active:
        return
    sock, address = args
    if getattr(sock, "family", None) not in (socket.AF_INET, socket.AF_INET6) \
            or is_loopback(address):
        return
    _GUARD.refused.append(repr(address))
    raise OffLoopbackError(f"only loopback may be reached here, not {address!r}")


@contextlib.contextmanager
def only_loopback() -> Iterator[list[str]]:
    """Refuse every TCP connection beyond loopback within the block (OffLoopbackError);
    yield the list of the addresses refused so far, for the caller to fail on."""
    with _GUARD.lock:
        if not _GUARD.installed:
            sys.addaudithook(_audit)
            _GUARD.installed = True
        _GUARD.active += 1
    try:
        yield _GUARD.refused
    finally:
        with _GUARD.lock:
            _GUARD.active -= 1
