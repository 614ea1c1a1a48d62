"""The network guard (jackfield.testing's only_loopback, on for every test here by
tests/conftest.py, and the loopback_only fixture): no test can reach beyond loopback."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

from jackfield.testing import OffLoopbackError, is_loopback, only_loopback

pytest_plugins = ["pytester"]  # to run a test file of its own under the loopback_only fixture

# 192.0.2.1 is TEST-NET-1 (RFC 5737) and 2001:db8:: the IPv6 documentation prefix (RFC 3849):
# never routed, so even a broken guard would send nothing anywhere.
NOWHERE = ("192.0.2.1", 9)


@pytest.fixture
def refused(_network_guard: list[str]) -> Iterator[list[str]]:
    """The session's list of refused addresses; what a test here refused on purpose is
    taken off it, or tests/conftest.py would fail the test."""
    yield _network_guard
    _network_guard.clear()


def test_a_connection_beyond_loopback_is_refused(refused: list[str]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, pytest.raises(
            OffLoopbackError, match="only loopback"):
        sock.connect(NOWHERE)
    assert refused == ["('192.0.2.1', 9)"]


def test_connect_ex_and_ipv6_are_refused_too(refused: list[str]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, pytest.raises(
            OffLoopbackError):
        sock.connect_ex(NOWHERE)
    if socket.has_ipv6:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock, pytest.raises(
                OffLoopbackError):
            sock.connect(("2001:db8::1", 9))
    assert len(refused) == 1 + socket.has_ipv6


async def test_aiohttp_is_refused_and_the_test_would_fail(refused: list[str]) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectorError):  # a client may well catch it...
            await session.get("http://192.0.2.1:9/")
    assert refused == ["('192.0.2.1', 9)"]  # ...the guard still fails the test


def test_loopback_is_allowed() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
    assert is_loopback(("127.0.0.5", 80)) and is_loopback(("::1", 80, 0, 0))
    assert is_loopback("/tmp/some.sock") and is_loopback(("::ffff:127.0.0.1", 80, 0, 0))
    assert not is_loopback(("10.0.0.1", 80)) and not is_loopback(("example", 1))


def test_only_loopback_nests_and_yields_what_it_refused(refused: list[str]) -> None:
    with only_loopback() as inner:
        assert inner is refused  # one list for the process
        with socket.socket() as sock, pytest.raises(OffLoopbackError):
            sock.connect(NOWHERE)
    assert inner == ["('192.0.2.1', 9)"]


def test_loopback_only_fixture_fails_a_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import socket

        import pytest

        pytestmark = pytest.mark.usefixtures("loopback_only")


        def test_leaves() -> None:
            with socket.socket() as sock:
                try:
                    sock.connect(("192.0.2.1", 9))
                except OSError:
                    pass  # caught: the fixture still fails the test


        def test_stays() -> None:
            pass
    """)
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=2, errors=1)  # test_leaves' call passed, its teardown not
    result.stdout.fnmatch_lines(["*tried to connect beyond loopback*192.0.2.1*"])


def test_a_real_services_key_is_not_in_the_environment() -> None:
    assert "OPENAI_API_KEY" not in os.environ
    assert not [key for key in os.environ if key.startswith("JACKFIELD_OPENAI_")]
