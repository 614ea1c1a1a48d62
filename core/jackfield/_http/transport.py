"""The HTTP transport: one pooled aiohttp session per registry, timeouts, proxies, typed errors."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from urllib.parse import urljoin

import aiohttp
import attrs

from jackfield._errors import (
    ProviderTimeoutError,
    ProviderUnavailableError,
    ResponseFormatError,
)
from jackfield._http.fetch_policy import MAX_REDIRECTS, DownloadBudget, FetchPolicy, shown_url
from jackfield._http.response import HttpResponse
from jackfield._http.statuses import error_for_status
from jackfield._settings.limits import Limits, Timeouts
from jackfield._types.requests import HttpRequest

__all__ = ["Download", "ProviderTransport", "Transport"]

ERROR_BODY_LIMIT = 64 * 1024  # enough to describe an error, never the whole of a huge page
REDIRECTS = frozenset({301, 302, 303, 307, 308})


@attrs.frozen
class Download:
    """A follow-up resource fetched for a provider (an image file, say)."""

    url: str
    data: bytes = attrs.field(repr=lambda d: f"<{len(d)} bytes>")
    content_type: str

    @property
    def summary(self) -> str:
        """Return its type, size and URL (no query) for an error message, never its content:
        a download that is not an image may be a page nobody should see quoted."""
        return (f"{self.content_type or 'no content type'}, {len(self.data)} bytes, "
                f"from {shown_url(self.url)}")


class Transport:
    """Sends HttpRequests over one keep-alive session, created on first use."""

    def __init__(self, *, timeouts: Timeouts, limits: Limits, proxy: str | None = None) -> None:
        self.timeouts = timeouts
        self.limits = limits
        self.proxy = proxy
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self.limits.max_connections, limit_per_host=0,
                                             keepalive_timeout=30)
            # trust_env=False: proxies come from jackfield's own configuration only.
            self._session = aiohttp.ClientSession(connector=connector, trust_env=False,
                                                  auto_decompress=True)
        return self._session

    async def send(self, provider: str, request: HttpRequest, *, timeouts: Timeouts | None = None,
                   proxy: str | None = None, auth_hint: str = "",
                   allow_redirects: bool = True) -> HttpResponse:
        """Send request; return the 2xx response or raise the typed error for what happened.

        With allow_redirects=False a redirect is returned too, for the caller to judge.
        """
        timeouts = timeouts or self.timeouts
        client_timeout = aiohttp.ClientTimeout(total=timeouts.total, sock_connect=timeouts.connect,
                                               sock_read=timeouts.read_idle)
        session = self._get_session()
        try:
            raw = await session.request(
                request.method, request.url, headers=dict(request.headers), json=request.json,
                proxy=proxy or self.proxy, timeout=client_timeout, allow_redirects=allow_redirects,
            )
        except aiohttp.ClientConnectorError as error:
            raise ProviderUnavailableError(
                provider, f"could not connect to {request.url.split('?')[0]} ({error.os_error})",
                advice="Check the network, the proxy, or the provider's base URL setting.",
            ) from error
        except TimeoutError as error:
            raise ProviderTimeoutError(
                provider, f"no answer within the timeouts (connect {timeouts.connect:g} s, "
                          f"read {timeouts.read_idle:g} s)") from error
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as error:
            raise ProviderUnavailableError(
                provider, f"the connection failed before the reply ({type(error).__name__})"
            ) from error
        except aiohttp.ClientResponseError as error:
            raise ResponseFormatError(
                provider, f"the reply is not valid HTTP: {error.message}") from error
        if 200 <= raw.status < 300 or (not allow_redirects and raw.status in REDIRECTS):
            return HttpResponse(provider, raw, self.limits, timeouts.read_idle)
        try:
            body = await asyncio.wait_for(raw.content.read(ERROR_BODY_LIMIT), timeouts.read_idle)
        except (TimeoutError, aiohttp.ClientError):
            body = b""  # the status alone classifies the failure
        finally:
            raw.close()
        raise error_for_status(provider, raw.status, headers=raw.headers, body=body,
                               auth_hint=auth_hint)

    async def aclose(self) -> None:
        """Close the session and every pooled connection."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


class ProviderTransport:
    """The slice of the transport a provider's parser may use for follow-up requests.

    Downloads obey the provider's FetchPolicy (its own origin or declared hosts, no internal
    addresses for a public provider, each redirect hop checked) and one DownloadBudget per
    call (Limits.max_images, Limits.max_call_bytes).
    """

    def __init__(self, transport: Transport, provider: str, timeouts: Timeouts | None,
                 proxy: str | None, *, base_url: str | None = None,
                 download_hosts: tuple[str, ...] = (), check_hosts: bool = True) -> None:
        self._transport = transport
        self._provider = provider
        self._timeouts = timeouts
        self._proxy = proxy
        # Without a base URL only the declared hosts are allowed; check_hosts=False is for the
        # test kit's mocked replies (no DNS there), never for a registry.
        self._policy = FetchPolicy(provider, base_url or "", download_hosts,
                                   proxied=bool(proxy or transport.proxy)) if check_hosts else None
        self._budget = DownloadBudget(provider, transport.limits)

    async def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> Download:
        """Fetch url with GET through the registry's session and return its bytes.

        :raises ResponseFormatError: when the policy refuses the URL or a redirect, or the
            reply names too many images or too many bytes.
        """
        self._budget.start()
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            if self._policy is not None:
                await self._policy.check_url(current)
            request = HttpRequest("GET", current, headers=dict(headers or {}))
            response = await self._transport.send(self._provider, request,
                                                   timeouts=self._timeouts, proxy=self._proxy,
                                                   allow_redirects=False)
            try:
                if self._policy is not None:
                    await self._policy.check_peer(current, response.peer_address)
                if response.status in REDIRECTS:
                    location = response.headers.get("Location")
                    if not location:
                        raise ResponseFormatError(self._provider, f"the download of "
                                                  f"{shown_url(current)} redirects nowhere")
                    current = urljoin(current, location)
                    continue
                data = await self._read(response)
            finally:
                response.release()
            return Download(url=url, data=data, content_type=response.content_type)
        raise ResponseFormatError(self._provider, f"the download of {shown_url(url)} "
                                  f"redirects more than {MAX_REDIRECTS} times")

    async def _read(self, response: HttpResponse) -> bytes:
        """Read the body within the call's byte budget, refusing early on a large length."""
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit():
            self._budget.check(int(declared))
        parts = []
        async for chunk in response.iter_chunks():
            self._budget.add(len(chunk))
            parts.append(chunk)
        # One part (the usual small image) is returned as it is: no second copy.
        return parts[0] if len(parts) == 1 else b"".join(parts)
