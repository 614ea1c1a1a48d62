"""The HTTP transport: one pooled aiohttp session per registry, timeouts, proxies, typed errors."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import aiohttp
import attrs

from jackfield._errors import (
    ProviderTimeoutError,
    ProviderUnavailableError,
    ResponseFormatError,
)
from jackfield._http.response import HttpResponse
from jackfield._http.statuses import error_for_status
from jackfield._settings.limits import Limits, Timeouts
from jackfield._types.requests import HttpRequest

__all__ = ["Download", "ProviderTransport", "Transport"]

ERROR_BODY_LIMIT = 64 * 1024  # enough to describe an error, never the whole of a huge page


@attrs.frozen
class Download:
    """A follow-up resource fetched for a provider (an image file, say)."""

    url: str
    data: bytes = attrs.field(repr=lambda d: f"<{len(d)} bytes>")
    content_type: str


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
                   proxy: str | None = None, auth_hint: str = "") -> HttpResponse:
        """Send request; return the 2xx response or raise the typed error for what happened."""
        timeouts = timeouts or self.timeouts
        client_timeout = aiohttp.ClientTimeout(total=timeouts.total, sock_connect=timeouts.connect,
                                               sock_read=timeouts.read_idle)
        session = self._get_session()
        try:
            raw = await session.request(
                request.method, request.url, headers=dict(request.headers), json=request.json,
                proxy=proxy or self.proxy, timeout=client_timeout, allow_redirects=True,
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
        if 200 <= raw.status < 300:
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
    """The slice of the transport a provider's parser may use for follow-up requests."""

    def __init__(self, transport: Transport, provider: str, timeouts: Timeouts | None,
                 proxy: str | None) -> None:
        self._transport = transport
        self._provider = provider
        self._timeouts = timeouts
        self._proxy = proxy

    async def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> Download:
        """Fetch url with GET through the registry's session and return its bytes."""
        request = HttpRequest("GET", url, headers=dict(headers or {}))
        response = await self._transport.send(self._provider, request, timeouts=self._timeouts,
                                               proxy=self._proxy)
        try:
            data = await response.read()
        finally:
            response.release()
        return Download(url=url, data=data, content_type=response.content_type)
