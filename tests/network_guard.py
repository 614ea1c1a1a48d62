"""The network guard the tests run under (installed by tests/conftest.py): an audit hook that
refuses every socket connection beyond loopback, whatever library opens it."""

from __future__ import annotations

import ipaddress
import socket

__all__ = ["OFF_LOOPBACK", "REAL_SERVICE_ENV", "OffLoopbackError", "guard_connect", "loopback"]


class OffLoopbackError(ConnectionRefusedError):
    """A test tried to connect beyond loopback: refused, and the test fails."""


OFF_LOOPBACK: list[str] = []  # connections refused since the last test's check


def loopback(address: object) -> bool:
    """Return True for an address on this machine: 127.0.0.0/8, ::1, or a Unix socket."""
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
        return False  # a host name: the resolved address is what should have been given
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:127.0.0.1
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


def guard_connect(event: str, args: tuple[object, ...]) -> None:
    """The audit hook: refuse a TCP connection beyond loopback, and remember it."""
    if event != "socket.connect":
        return
    sock, address = args
    family = getattr(sock, "family", None)
    if family not in (socket.AF_INET, socket.AF_INET6) or loopback(address):
        return
    OFF_LOOPBACK.append(repr(address))
    raise OffLoopbackError(f"tests may connect to loopback only, not to {address!r}")


# Credentials and endpoints of real services a developer may have exported: never in a test.
REAL_SERVICE_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE", "OPENAI_ORG_ID",
                     "OPENAI_PROJECT_ID")
