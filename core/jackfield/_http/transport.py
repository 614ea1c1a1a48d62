"""The HTTP transport: pooled sessions (per provider and event loop), timeouts, typed errors."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import urljoin

import aiohttp
import attrs

from jackfield._errors import (
    ConfigurationError,
    JackfieldError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    ResponseFormatError,
)
from jackfield._http import fetch_policy
from jackfield._http.error_reply import ErrorReply
from jackfield._http.fetch_policy import MAX_REDIRECTS, DownloadBudget, FetchPolicy, shown_url
from jackfield._http.recording import active as active_recorder
from jackfield._http.request_body import payload
from jackfield._http.response import HttpResponse
from jackfield._http.sessions import LoopSessions, busy
from jackfield._http.statuses import error_for_status
from jackfield._settings.limits import Limits, Timeouts
from jackfield._types.requests import HttpRequest

__all__ = ["Download", "ErrorHook", "ProviderTransport", "Transport", "closed_under_call",
           "merged_headers"]

# Turns an error reply into the error to raise (None: the core's own); the plugin's hook.
ErrorHook = Callable[[ErrorReply], JackfieldError | None]

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
    """Sends HttpRequests over keep-alive sessions: one per provider and event loop.

    One pool per provider keeps a provider whose connections are all busy (slow streams,
    callers that do not read) from starving the others. One set per event loop lets a
    registry serve several `asyncio.run` calls in turn, or threads each with a loop.
    """

    def __init__(self, *, timeouts: Timeouts, limits: Limits, proxy: str | None = None) -> None:
        self.timeouts = timeouts
        self.limits = limits
        self.proxy = proxy
        self._pool_size = limits.max_connections_per_provider or limits.max_connections
        self._loops: dict[asyncio.AbstractEventLoop, LoopSessions] = {}

    def _sessions(self, loop: asyncio.AbstractEventLoop) -> LoopSessions:
        """Return this loop's sessions, dropping those of loops that are closed."""
        sessions = self._loops.get(loop)
        if sessions is None:
            self._drop_closed_loops()
            sessions = self._loops[loop] = LoopSessions(self._pool_size)
        return sessions

    def _drop_closed_loops(self) -> None:
        # list() copies at once: another thread's loop may add its sessions meanwhile.
        for old in list(self._loops):
            if old.is_closed():
                dropped = self._loops.pop(old, None)
                if dropped is not None:
                    dropped.forget()

    def _get_session(self, provider: str, public_only: bool = False) -> aiohttp.ClientSession:
        return self._sessions(asyncio.get_running_loop()).get(provider, public_only)

    async def send(self, provider: str, request: HttpRequest, *, timeouts: Timeouts | None = None,
                   proxy: str | None = None, auth_hint: str = "",
                   allow_redirects: bool = True, public_only: bool = False,
                   error_hook: ErrorHook | None = None, model: str | None = None,
                   ) -> HttpResponse:
        """Send request; return the 2xx response or raise the typed error for what happened.

        With allow_redirects=False a redirect is returned too, for the caller to judge.
        public_only=True sends it over the provider's download session, whose resolver
        connects to public addresses only. error_hook turns an error reply into its error
        (the plugin's jackfield_error_reply); model is the model id it is told of.
        """
        timeouts = timeouts or self.timeouts
        # connect bounds the wait for a free connection of the pool too, not only the TCP
        # connect: a call queued behind a full pool fails instead of waiting for ever.
        client_timeout = aiohttp.ClientTimeout(total=timeouts.total, connect=timeouts.connect,
                                               sock_connect=timeouts.connect,
                                               sock_read=timeouts.read_idle)
        session = self._get_session(provider, public_only)
        headers, data = payload(request)
        try:
            raw = await session.request(
                request.method, request.url, headers=headers, data=data,
                proxy=proxy or self.proxy, timeout=client_timeout,
                allow_redirects=allow_redirects,
            )
        except aiohttp.ClientConnectorError as error:
            if isinstance(error.os_error, fetch_policy.InternalAddressError):
                raise error.os_error.refusal(provider) from error
            raise ProviderUnavailableError(
                provider, f"could not connect to {shown_url(request.url)} ({error.os_error})",
                advice="Check the network, the proxy, or the provider's base URL setting.",
            ) from error
        except aiohttp.ConnectionTimeoutError as error:
            raise self._no_connection(provider, session, timeouts) from error
        except TimeoutError as error:
            raise ProviderTimeoutError(
                provider, f"no answer within the timeouts (connect {timeouts.connect:g} s, "
                          f"read {timeouts.read_idle:g} s)") from error
        except (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError) as error:
            raise _invalid_url(provider, request.url, error) from error
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as error:
            if session.closed:
                raise closed_under_call(provider) from error
            raise ProviderUnavailableError(
                provider, f"the connection failed before the reply ({type(error).__name__})"
            ) from error
        except aiohttp.ClientResponseError as error:
            raise ResponseFormatError(
                provider, f"the reply is not valid HTTP: {error.message}") from error
        except RuntimeError as error:
            if session.closed:  # aiohttp: "Session is closed"
                raise closed_under_call(provider) from error
            raise
        recorder = active_recorder()  # `jackfield record`'s tap: None unless it runs
        if 200 <= raw.status < 300 or (not allow_redirects and raw.status in REDIRECTS):
            if recorder is not None:
                return recorder.response(provider, request, raw, self.limits,
                                         timeouts.read_idle)
            return HttpResponse(provider, raw, self.limits, timeouts.read_idle)
        try:
            async with asyncio.timeout(timeouts.read_idle):  # not wait_for: it may lose a cancel
                body = await raw.content.read(ERROR_BODY_LIMIT)
        except (TimeoutError, aiohttp.ClientError):
            body = b""  # the status alone classifies the failure
        finally:
            raw.close()
        if recorder is not None:
            recorder.error_reply(provider, request, raw, body)
        default = error_for_status(provider, raw.status, headers=raw.headers, body=body,
                                   auth_hint=auth_hint)
        if error_hook is None:
            raise default
        raise error_hook(ErrorReply(provider, raw.status, raw.headers, body, default,
                                    model)) or default

    def _no_connection(self, provider: str, session: aiohttp.ClientSession,
                       timeouts: Timeouts) -> ProviderTimeoutError:
        if busy(session) >= self._pool_size:
            return ProviderTimeoutError(
                provider, f"all {self._pool_size} connections of its pool stayed busy for the "
                          f"connect timeout of {timeouts.connect:g} s",
                advice="Raise Limits(max_connections_per_provider=...) if this many calls at "
                       "once are expected, or finish (or close) the streams that hold them.")
        return ProviderTimeoutError(
            provider, f"could not connect within the connect timeout of {timeouts.connect:g} s",
            advice="Check the network, the proxy, or the provider's base URL setting; or raise "
                   "Timeouts(connect=...).")

    def closed_here(self) -> bool:
        """Return True if this event loop's sessions were closed (aclose()) or never opened."""
        sessions = self._loops.get(asyncio.get_running_loop())
        return sessions is None or sessions.closed

    async def aclose(self) -> None:
        """Close this event loop's sessions and every pooled connection.

        The sessions of other loops still running (other threads) close when their loop
        ends; those of loops already closed are dropped.
        """
        loop = asyncio.get_running_loop()
        sessions = self._loops.pop(loop, None)
        self._drop_closed_loops()
        if sessions is not None:
            await sessions.aclose()


def merged_headers(own: Mapping[str, str], configured: Mapping[str, str]) -> dict[str, str]:
    """Return own headers with the configured ones over them, names compared without case."""
    names = {name.lower() for name in configured}
    return {**{k: v for k, v in own.items() if k.lower() not in names}, **configured}


def closed_under_call(provider: str) -> ProviderUnavailableError:
    return ProviderUnavailableError(
        provider, "the registry was closed (aclose()) while this call was running",
        advice="Close the registry only after its calls and streams are finished.")


def _invalid_url(provider: str, url: str, error: aiohttp.ClientError) -> JackfieldError:
    if isinstance(error, aiohttp.RedirectClientError):
        return ResponseFormatError(provider, "the reply redirected to a URL that is not a "
                                             "valid http(s) URL")
    # Nothing was sent: the URL came from the base URL setting and the plugin's path.
    shown = shown_url(url)[:200]
    return ConfigurationError(
        f"{provider}: the request URL {shown!r} is not a valid http(s) URL. "
        f"Check the provider's base URL setting; if it is right, report it to the plugin's "
        f"authors.")


_NO_HEADERS: Mapping[str, str] = MappingProxyType({})


class ProviderTransport:
    """The slice of the transport a provider's parser may use for follow-up requests.

    Downloads obey the provider's FetchPolicy (its own origin or declared hosts, no internal
    addresses for a public provider, each redirect hop checked) and one DownloadBudget per
    call (Limits.max_images, Limits.max_call_bytes).
    """

    __slots__ = ("_base_url", "_built_budget", "_built_policy", "_check_hosts",
                 "_download_hosts", "_error_hook", "_headers", "_provider", "_proxy",
                 "_timeouts", "_transport")

    def __init__(self, transport: Transport, provider: str, timeouts: Timeouts | None,
                 proxy: str | None, *, base_url: str | None = None,
                 download_hosts: tuple[str, ...] = (), check_hosts: bool = True,
                 headers: Mapping[str, str] | None = None, error_hook: ErrorHook | None = None,
                 ) -> None:
        self._transport = transport
        self._provider = provider
        self._timeouts = timeouts
        self._proxy = proxy
        # The provider's configured headers (fetch_json), copied; no empty dict per call.
        self._headers: Mapping[str, str] = dict(headers) if headers else _NO_HEADERS
        self._error_hook = error_hook
        self._base_url = base_url
        self._download_hosts = download_hosts
        self._check_hosts = check_hosts
        # Built on first use: a parser that fetches nothing (most calls) pays for neither.
        self._built_policy: FetchPolicy | None = None
        self._built_budget: DownloadBudget | None = None

    @property
    def _policy(self) -> FetchPolicy | None:
        # Without a base URL only the declared hosts are allowed; check_hosts=False is for the
        # test kit's mocked replies (no DNS there), never for a registry.
        if self._built_policy is None and self._check_hosts:
            self._built_policy = FetchPolicy(
                self._provider, self._base_url or "", self._download_hosts,
                proxied=bool(self._proxy or self._transport.proxy))
        return self._built_policy

    @property
    def _budget(self) -> DownloadBudget:
        if self._built_budget is None:  # one budget for all of this call's downloads
            self._built_budget = DownloadBudget(self._provider, self._transport.limits)
        return self._built_budget

    async def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> Download:
        """Fetch url with GET through the registry's session and return its bytes.

        :raises ResponseFormatError: when the policy refuses the URL or a redirect, or the
            reply names too many images or too many bytes.
        """
        self._budget.start()
        # A public provider's downloads connect through a resolver that judges the very answer
        # connected to (DNS rebinding). Through a proxy the proxy resolves: names are judged
        # by host only, as before. An emulator's downloads may reach internal addresses.
        pinned = self._policy is not None and not await self._policy.allows_internal()
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            if self._policy is not None:
                await self._policy.check_url(current)
            request = HttpRequest("GET", current, headers=dict(headers or {}))
            response = await self._transport.send(self._provider, request,
                                                   timeouts=self._timeouts, proxy=self._proxy,
                                                   allow_redirects=False, public_only=pinned)
            try:
                if self._policy is not None:  # defence in depth: the peer actually connected
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

    async def fetch_json(self, request: HttpRequest) -> Any:
        """Send request to the provider's own origin (or a declared host) and return the
        parsed JSON reply: for a plugin's model discovery.

        The request goes with its own headers (the plugin's credentials) and the provider's
        configured ones, within the registry's timeouts and reply size limit, and is not
        redirected.

        :raises ValueError: for a URL beyond the provider's origin and declared hosts (a
            plugin bug: the core reports it as a PluginError).
        :raises ResponseFormatError: when the reply is not JSON, is HTML or is too large.
        :raises ProviderError: a subclass of it for a non-2xx reply (the plugin's
            jackfield_error_reply first), as for a call.
        """
        # Not a download: no image budget (a listing may take one request per model), and
        # the URL is the plugin's own, as a call's is; it may only go to the service itself.
        if self._policy is not None and not self._policy.same_service(request.url):
            raise ValueError(f"fetch_json() sends only to the provider's own origin or a "
                             f"declared download host, not {shown_url(request.url)}")
        if self._headers:
            request = attrs.evolve(request, headers=merged_headers(request.headers,
                                                                   self._headers))
        response = await self._transport.send(self._provider, request, timeouts=self._timeouts,
                                               proxy=self._proxy, allow_redirects=False,
                                               error_hook=self._error_hook)
        try:
            if response.status in REDIRECTS:
                raise ResponseFormatError(self._provider, f"{shown_url(request.url)} "
                                          "redirects; set the provider's base URL to where it "
                                          "redirects to")
            await response.refuse_html()
            return await response.json()
        finally:
            response.release()

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
