"""Where a provider's follow-up downloads may go, and how much of them one call may hold.

A reply names image URLs and the core fetches them, so a reply must not be able to point the
core at the machine's own services, the local network or a cloud metadata address (SSRF). A
download goes only to the provider's own origin (scheme-default or explicit port of its base
URL) or to the hosts its spec declares, never with credentials in the URL, and never to a
loopback, private, link-local or reserved address unless the provider's base URL itself is
on one (the emulators listen on 127.0.0.1). Every redirect hop is checked the same way.

A name is judged on the answer the connection uses (DNS rebinding): a public provider's
downloads go through a connector whose PublicOnlyResolver drops the internal addresses of
each lookup and hands aiohttp only the rest, so a name that turns into 127.0.0.1 between
the check and the connect never receives the request.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from jackfield._errors import ProviderUnavailableError, ResponseFormatError
from jackfield._settings.limits import Limits
from jackfield._types.specs import download_host

__all__ = ["MAX_REDIRECTS", "DownloadBudget", "FetchPolicy", "InternalAddressError",
           "PublicOnlyResolver", "is_internal", "shown_url"]

MAX_REDIRECTS = 5
DEFAULT_PORTS = {"http": 80, "https": 443}
INTERNAL = "its host is a loopback, private, link-local or reserved address"
ADVICE = ("A plugin whose images live on another host declares it in "
          "ProviderSpec(download_hosts=...); internal addresses are never fetched "
          "for a provider on the public network.")
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def shown_url(url: str) -> str:
    """Return url without credentials, query or fragment: safe to put in an error message.

    Host and port are kept as written, so a malformed port (the usual mistake) still shows.
    """
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


def is_internal(address: Address) -> bool:
    """Return True for any address that is not a public unicast one (loopback, private...)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def _origin(url: str) -> tuple[str, str, int] | None:
    """Return (scheme, host, port) of an http(s) URL, or None if it has no usable host."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    return parts.scheme, parts.hostname.rstrip("."), port or DEFAULT_PORTS[parts.scheme]


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def _addresses(host: str, port: int) -> list[Address]:
    """Resolve host as the connection will; a literal address is its own answer."""
    literal = _literal(host)
    if literal is not None:
        return [literal]
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    # The scope of a link-local IPv6 answer ("fe80::1%eth0") is not part of the address.
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


class FetchPolicy:
    """Decides whether one follow-up URL may be fetched for one provider."""

    def __init__(self, provider: str, base_url: str, hosts: Iterable[str] = (), *,
                 proxied: bool = False) -> None:
        self.provider = provider
        self._base = _origin(base_url)
        self._hosts = {download_host(entry) for entry in hosts}
        # Through a proxy the proxy resolves names: only literal addresses can be judged here.
        self._proxied = proxied
        self._base_internal: bool | None = None

    def _allowed_origin(self, scheme: str, host: str, port: int) -> bool:
        if self._base is not None and host == self._base[1]:
            base_scheme, _, base_port = self._base
            # The same port, or http/https on their default ports (an http link on an
            # https host, say): another port of the same host is another service.
            if port == base_port or (base_port == DEFAULT_PORTS[base_scheme]
                                     and port == DEFAULT_PORTS[scheme]):
                return True
        return ((host, None) in self._hosts and port == DEFAULT_PORTS[scheme]) or (
            (host, port) in self._hosts)

    async def _base_is_internal(self) -> bool:
        """Return True if the provider itself lives on an internal address (an emulator)."""
        if self._base_internal is None:
            if self._base is None:
                self._base_internal = False
            else:
                try:
                    found = await _addresses(self._base[1], self._base[2])
                except OSError:
                    found = []
                self._base_internal = any(is_internal(a) for a in found)
        return self._base_internal

    def _refuse(self, url: str, why: str) -> ResponseFormatError:
        return ResponseFormatError(
            self.provider, f"the reply names a download the core refuses to fetch "
                           f"({shown_url(url)}): {why}",
            advice=ADVICE)

    async def allows_internal(self) -> bool:
        """Return True if downloads may reach internal addresses: proxied (the proxy
        resolves), or a provider that itself lives on one (an emulator)."""
        return self._proxied or await self._base_is_internal()

    def same_service(self, url: str) -> bool:
        """Return True if url is on the provider's own origin or a declared host (no lookup:
        for requests a plugin builds itself, such as its model listing)."""
        parts = urlsplit(url)
        origin = _origin(url)
        return (parts.scheme in DEFAULT_PORTS and origin is not None and "@" not in parts.netloc
                and self._allowed_origin(*origin))

    async def check_url(self, url: str) -> None:
        """Raise ResponseFormatError unless url may be fetched; resolves its host to decide.

        This lookup refuses early with a clear message; the one that holds against DNS
        rebinding is the PublicOnlyResolver's, whose answer is the one connected to.
        """
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS:
            raise self._refuse(url, "only http and https URLs are fetched")
        if parts.username is not None or parts.password is not None or "@" in parts.netloc:
            raise self._refuse(url, "the URL carries credentials (user:password@)")
        origin = _origin(url)
        if origin is None:
            raise self._refuse(url, "the URL has no valid host and port")
        scheme, host, port = origin
        if not self._allowed_origin(scheme, host, port):
            raise self._refuse(url, "its host is neither the provider's own nor one it declares")
        literal = _literal(host)
        if self._proxied and literal is None:
            return  # the proxy resolves the name; the host check above is what holds
        try:
            found = await _addresses(host, port)
        except OSError as error:
            raise ProviderUnavailableError(
                self.provider, f"could not resolve the download host {host!r} ({error})"
            ) from error
        if any(is_internal(a) for a in found) and not await self._base_is_internal():
            raise self._refuse(url, INTERNAL)

    async def check_peer(self, url: str, peer: str | None) -> None:
        """Raise unless the address actually connected to is allowed (DNS rebinding)."""
        if self._proxied or peer is None:
            return
        address = _literal(peer.split("%")[0])
        if address is not None and is_internal(address) and not await self._base_is_internal():
            raise self._refuse(url, "its host resolved to an internal address on connecting")


class InternalAddressError(OSError):
    """A download host resolved only to internal addresses (raised by PublicOnlyResolver)."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(f"{host}:{port} resolved only to internal addresses")
        self.host = host
        self.port = port

    def refusal(self, provider: str) -> ResponseFormatError:
        """Return the typed error a caller sees (aiohttp wraps this one as a DNS failure)."""
        return ResponseFormatError(
            provider, f"the reply names a download the core refuses to fetch "
                      f"({self.host}:{self.port}): {INTERNAL}", advice=ADVICE)


class PublicOnlyResolver(AbstractResolver):
    """Resolves for the connector of a public provider's downloads: internal answers dropped.

    The answer checked is the answer connected to (no second lookup to rebind between).
    aiohttp never asks a resolver about literal addresses: FetchPolicy.check_url judges those.
    """

    def __init__(self) -> None:
        self._inner = aiohttp.ThreadedResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        allowed = [r for r in found if not is_internal(ipaddress.ip_address(r["host"]))]
        if not allowed:
            raise InternalAddressError(host.rstrip("."), port)
        return allowed

    async def close(self) -> None:
        await self._inner.close()


class DownloadBudget:
    """How many downloads and bytes one call's follow-up fetches may still use."""

    def __init__(self, provider: str, limits: Limits) -> None:
        self._provider = provider
        self._limits = limits
        self.images = 0
        self.bytes = 0

    def start(self) -> None:
        """Count one more download; raise when the reply names too many."""
        self.images += 1
        if self.images > self._limits.max_images:
            raise ResponseFormatError(
                self._provider, f"the reply names more than {self._limits.max_images} images",
                advice="Raise Limits(max_images=...) if such replies are expected.")

    def check(self, size: int) -> None:
        """Raise if size more bytes would exceed the limit (a declared length, say)."""
        if self.bytes + size > self._limits.max_call_bytes:
            self.add(size)

    def add(self, size: int) -> None:
        """Count size more bytes; raise once the call's downloads exceed the limit."""
        self.bytes += size
        if self.bytes > self._limits.max_call_bytes:
            raise ResponseFormatError(
                self._provider, f"the downloads of one call exceed "
                                f"{self._limits.max_call_bytes} bytes",
                advice="Raise Limits(max_call_bytes=...) if such replies are expected.")
