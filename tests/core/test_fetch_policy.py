"""Follow-up downloads (issue 10, must fix 4): a reply cannot point the core at internal services.

Every refusal here is checked to happen before connecting: the loopback "internal service"
counts its hits and must see none, and the private literals are never dialled (the check is
done first, so no test waits on an unroutable address).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from jackfield import ResponseFormatError
from jackfield._http import fetch_policy
from jackfield._http.fetch_policy import (
    FetchPolicy,
    InternalAddressError,
    PublicOnlyResolver,
    is_internal,
    shown_url,
)
from jackfield._http.transport import ProviderTransport, Transport
from jackfield.provider import ProviderSpec
from jackfield.testing import ServeApp, new_app, png_bytes

PUBLIC_BASE = "https://images.provider.example"  # never connected to: every check refuses first


class Service:
    """A loopback HTTP service that counts every request it answers."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.target = ""  # where /redirect sends the client
        self.app = new_app()
        self.app.router.add_get("/{name}", self.answer)

    async def answer(self, request: web.Request) -> web.StreamResponse:
        self.hits.append(request.path)
        if request.path == "/redirect":
            raise web.HTTPFound(self.target)
        if request.path == "/page":
            return web.Response(text="secret internal page", content_type="text/html")
        return web.Response(body=png_bytes("ok"), content_type="image/png")


@pytest.fixture
async def internal(serve_app: ServeApp) -> AsyncIterator[tuple[Service, str]]:
    service = Service()
    yield service, await serve_app(service.app)


async def fetch(transport: Transport, url: str, base_url: str,
                hosts: tuple[str, ...] = ()) -> bytes:
    follow = ProviderTransport(transport, "mock", None, None, base_url=base_url,
                               download_hosts=hosts)
    return (await asyncio.wait_for(follow.get(url), 5)).data


async def test_another_loopback_port_is_refused_for_a_public_provider(
        transport: Transport, internal: tuple[Service, str]) -> None:
    service, url = internal
    with pytest.raises(ResponseFormatError, match="neither the provider's own"):
        await fetch(transport, f"{url}/health", PUBLIC_BASE)
    assert service.hits == []


async def test_a_declared_host_on_loopback_is_refused_for_a_public_provider(
        transport: Transport, internal: tuple[Service, str]) -> None:
    service, url = internal
    port = url.rsplit(":", 1)[1]
    for host in ("127.0.0.1", "localhost"):  # a name resolving to loopback counts as loopback
        with pytest.raises(ResponseFormatError, match="loopback, private"):
            await fetch(transport, f"http://{host}:{port}/img.png", PUBLIC_BASE,
                        hosts=(f"{host}:{port}",))
    assert service.hits == []


@pytest.mark.parametrize("address", ["10.0.0.7", "169.254.169.254", "192.168.1.1", "[fd00::1]",
                                     "[::ffff:127.0.0.1]", "0.0.0.0", "100.64.0.1",
                                     "2130706433", "localhost."])  # 127.0.0.1 in disguise
async def test_private_and_link_local_literals_are_refused_before_connecting(
        transport: Transport, address: str) -> None:
    with pytest.raises(ResponseFormatError, match="loopback, private"):
        await fetch(transport, f"http://{address}/latest/meta-data/", PUBLIC_BASE,
                    hosts=(address.rstrip("."),))


async def test_credentials_in_the_url_are_refused_even_on_the_own_host(
        transport: Transport, internal: tuple[Service, str]) -> None:
    service, url = internal
    with pytest.raises(ResponseFormatError, match="credentials") as caught:
        await fetch(transport, url.replace("http://", "http://admin:hunter2@") + "/img.png",
                    url)
    assert "hunter2" not in str(caught.value) and service.hits == []


async def test_a_redirect_to_another_loopback_port_is_refused(
        transport: Transport, internal: tuple[Service, str], serve_app: ServeApp) -> None:
    provider, provider_url = internal
    other = Service()
    other_url = await serve_app(other.app)
    provider.target = f"{other_url}/health"
    with pytest.raises(ResponseFormatError, match="neither the provider's own"):
        await fetch(transport, f"{provider_url}/redirect", provider_url)
    assert provider.hits == ["/redirect"] and other.hits == []


async def test_a_redirect_on_the_own_origin_is_followed(
        transport: Transport, internal: tuple[Service, str]) -> None:
    service, url = internal
    service.target = "/img.png"
    assert await fetch(transport, f"{url}/redirect", url) == png_bytes("ok")
    assert service.hits == ["/redirect", "/img.png"]


async def test_other_schemes_are_refused(transport: Transport) -> None:
    for url in ("file:///etc/passwd", "ftp://images.provider.example/a.png"):
        with pytest.raises(ResponseFormatError, match="only http and https"):
            await fetch(transport, url, PUBLIC_BASE)


async def test_the_own_host_is_its_default_ports_or_its_base_port() -> None:
    policy = FetchPolicy("mock", "https://93.184.215.14/v1")
    for allowed in ("https://93.184.215.14/a.png", "http://93.184.215.14:80/a.png"):
        await policy.check_url(allowed)
    with pytest.raises(ResponseFormatError, match="neither the provider's own"):
        await policy.check_url("https://93.184.215.14:8443/a.png")
    odd_port = FetchPolicy("mock", "https://93.184.215.14:8443")
    await odd_port.check_url("https://93.184.215.14:8443/a.png")
    with pytest.raises(ResponseFormatError, match="neither the provider's own"):
        await odd_port.check_url("https://93.184.215.14/a.png")


async def test_the_connected_address_is_checked_too() -> None:
    # DNS rebinding: a name that passed the check may resolve elsewhere when connecting.
    policy = FetchPolicy("mock", "https://93.184.215.14", ("cdn.provider.example",))
    await policy.check_peer("https://cdn.provider.example/a.png", "93.184.215.15")
    with pytest.raises(ResponseFormatError, match="internal address on connecting"):
        await policy.check_peer("https://cdn.provider.example/a.png", "127.0.0.1")
    emulator = FetchPolicy("mock", "http://127.0.0.1:8001")
    await emulator.check_peer("http://127.0.0.1:8001/a.png", "127.0.0.1")


def test_address_classes() -> None:
    internal = ["127.0.0.1", "::1", "10.1.2.3", "172.16.0.1", "192.168.0.1", "169.254.169.254",
                "fe80::1", "fd00::1", "0.0.0.0", "::", "100.64.0.1", "224.0.0.1",
                "::ffff:10.0.0.1", "255.255.255.255"]
    assert all(is_internal(ipaddress.ip_address(a)) for a in internal)
    assert not any(is_internal(ipaddress.ip_address(a)) for a in ("93.184.215.14", "2606:4700::1"))


def test_shown_urls_carry_no_credentials_or_query() -> None:
    assert shown_url("https://u:p@cdn.example:8443/a.png?sig=secret#x") == \
        "https://cdn.example:8443/a.png"


def test_download_hosts_are_checked_in_the_spec() -> None:
    spec = ProviderSpec(name="p", base_url=PUBLIC_BASE, models=(), download_hosts="cdn.example")
    assert spec.download_hosts == ("cdn.example",)
    for bad in ("https://cdn.example/path", "user@cdn.example", "cdn.example:http", ""):
        with pytest.raises(ValueError, match="download host"):
            ProviderSpec(name="p", base_url=PUBLIC_BASE, models=(), download_hosts=(bad,))


async def test_a_name_rebinding_to_loopback_never_receives_the_request(
        transport: Transport, internal: tuple[Service, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # DNS rebinding: the policy's lookup sees a public address, the connection's lookup
    # (the loop's getaddrinfo, as aiohttp's resolver uses) sees the loopback service.
    service, url = internal
    port = int(url.rsplit(":", 1)[1])
    host = "cdn.rebind.test"  # .test never resolves for real: both answers are the fakes'

    async def checked(name: str, at: int) -> list[ipaddress.IPv4Address]:
        return [ipaddress.IPv4Address("93.184.215.14")]

    loop = asyncio.get_running_loop()
    real_getaddrinfo = loop.getaddrinfo
    lookups: list[str] = []

    async def connected(name: Any, at: Any, *args: Any, **kwargs: Any) -> Any:
        if name != host:
            return await real_getaddrinfo(name, at, *args, **kwargs)
        lookups.append(name)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(fetch_policy, "_addresses", checked)
    monkeypatch.setattr(loop, "getaddrinfo", connected)
    with pytest.raises(ResponseFormatError, match="loopback, private"):
        await fetch(transport, f"http://{host}:{port}/img.png", PUBLIC_BASE,
                    hosts=(f"{host}:{port}",))
    assert service.hits == [] and lookups == [host]


async def test_the_download_resolver_hands_on_only_public_addresses(
        monkeypatch: pytest.MonkeyPatch) -> None:
    answers = {"mixed.test": ["93.184.215.14", "127.0.0.1", "10.0.0.7"],
               "inside.test": ["127.0.0.1", "169.254.169.254"]}

    async def getaddrinfo(name: Any, at: Any, *args: Any, **kwargs: Any) -> Any:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, at)) for a in answers[name]]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", getaddrinfo)
    resolver = PublicOnlyResolver()
    try:
        assert [r["host"] for r in await resolver.resolve("mixed.test", 443)] == \
            ["93.184.215.14"]
        with pytest.raises(InternalAddressError):
            await resolver.resolve("inside.test", 443)
    finally:
        await resolver.close()
