"""The HTTP transport: one pooled aiohttp session per registry, timeouts, proxies, typed errors."""

from __future__ import annotations

import asyncio
import email.utils
import json
import re
import time
from collections.abc import Mapping

import aiohttp
import attrs

from .errors import (
    AuthenticationError,
    ProviderError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitError,
    ResponseFormatError,
)
from .limits import Limits, Timeouts
from .requests import HttpRequest
from .response import HttpResponse

__all__ = ["Download", "ProviderTransport", "Transport", "error_for_status", "parse_retry_after"]

ERROR_BODY_LIMIT = 64 * 1024  # enough to describe an error, never the whole of a huge page


@attrs.frozen
class Download:
    """A follow-up resource fetched for a provider (an image file, say)."""

    url: str
    data: bytes = attrs.field(repr=lambda d: f"<{len(d)} bytes>")
    content_type: str


def parse_retry_after(value: str | None) -> float | None:
    """Return the seconds a Retry-After header asks for (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def describe_body(body: bytes, content_type: str) -> str:
    """Return what an error body says: its JSON message, an HTML page's title, or its text."""
    text = body.decode("utf-8", "replace")
    if "html" in content_type or text.lstrip()[:15].lower().startswith(("<!doctype", "<html")):
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.I | re.S)
        return "an HTML page" + (f" titled {title.group(1).strip()!r}" if title else "")
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if isinstance(data, dict):
        for key in ("message", "error", "detail"):
            value = data.get(key)
            if isinstance(value, dict):
                value = value.get("message", value)
            if value:
                return str(value)
    return text


def error_for_status(provider: str, status: int, headers: Mapping[str, str], body: bytes,
                     content_type: str = "", auth_hint: str = "") -> ProviderError:
    """Map a non-2xx answer to the typed error a caller can act on."""
    said = describe_body(body, content_type)
    if status in (401, 403):
        html = said.startswith("an HTML page")
        reason = ("the provider refused access with " + said + " (a login or bot-challenge page)"
                  if html else "the provider refused our credentials")
        # A challenge page is no verdict on our credentials: say what it is before the hint.
        advice = (("This is a page for browsers, not an API answer: try again later or from "
                   "another network. " + auth_hint).strip() if html else auth_hint or None)
        return AuthenticationError(provider, reason, status=status, body=None if html else said,
                                   advice=advice)
    if status == 429:
        return RateLimitError(provider, "rate limited", status=status, body=said,
                              retry_after=parse_retry_after(headers.get("Retry-After")))
    if status == 408:
        return ProviderTimeoutError(provider, "the provider timed out the request",
                                    status=status, body=said)
    if status >= 500:
        return ProviderUnavailableError(provider, "the provider failed", status=status, body=said)
    return ProviderError(provider, "the provider rejected the request", status=status, body=said,
                         advice="Check the model name and options; if they are right, the plugin "
                                "may be out of date.")


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
            # trust_env=False: proxies come from plugboard's own configuration only.
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
        raise error_for_status(provider, raw.status, raw.headers, body, raw.content_type, auth_hint)

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
