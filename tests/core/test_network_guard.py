"""The network guard (tests/network_guard.py): no test can reach beyond loopback."""

from __future__ import annotations

import os
import socket

import pytest

import network_guard


def test_a_connection_beyond_loopback_is_refused() -> None:
    # 192.0.2.1 is TEST-NET-1 (RFC 5737): never routed, so even a broken guard sends nothing.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, pytest.raises(
            network_guard.OffLoopbackError, match="loopback only"):
        sock.connect(("192.0.2.1", 9))
    assert network_guard.OFF_LOOPBACK == ["('192.0.2.1', 9)"]
    network_guard.OFF_LOOPBACK.clear()  # seen: this test wanted it refused


def test_connect_ex_and_ipv6_are_refused_too() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, pytest.raises(
            network_guard.OffLoopbackError):
        sock.connect_ex(("192.0.2.1", 9))
    if socket.has_ipv6:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock, pytest.raises(
                network_guard.OffLoopbackError):
            sock.connect(("2001:db8::1", 9))  # documentation prefix (RFC 3849)
    network_guard.OFF_LOOPBACK.clear()


def test_loopback_is_allowed() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
    near = network_guard.loopback
    assert near(("127.0.0.5", 80)) and near(("::1", 80, 0, 0)) and near("/tmp/some.sock")
    assert near(("::ffff:127.0.0.1", 80, 0, 0))
    assert not near(("10.0.0.1", 80)) and not near(("example", 1))


def test_a_real_services_key_is_not_in_the_environment() -> None:
    assert "OPENAI_API_KEY" not in os.environ
    assert not [key for key in os.environ if key.startswith("JACKFIELD_OPENAI_")]
