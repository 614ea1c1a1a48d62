"""Running one call: build, send, parse; retry and fall back only before content is delivered."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import attrs
import pluggy

from .config import ProviderConfig
from .errors import (
    AllProvidersFailedError,
    PartialResponseError,
    PlugboardError,
    PluginError,
    ProviderError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitError,
)
from .events import Finish, Image, TextDelta, Usage
from .health import HealthBook
from .limits import RetryPolicy, Timeouts
from .requests import CompletionRequest, HttpRequest
from .transport import ProviderTransport, Transport

__all__ = ["Attempt", "Caller", "Emitted"]

log = logging.getLogger("plugboard")
EVENT_TYPES = (TextDelta, Image, Usage, Finish)
Emitted = tuple[str, str, Any]  # (provider, model id, event)


@attrs.frozen
class Attempt:
    """One provider's share of a call: its validated request and its configuration."""

    request: CompletionRequest
    config: ProviderConfig


def _retry_delay(policy: RetryPolicy, error: PlugboardError, retry_number: int) -> float | None:
    if isinstance(error, RateLimitError):
        return policy.delay(retry_number, error.retry_after)
    if isinstance(error, ProviderUnavailableError | ProviderTimeoutError):
        return policy.delay(retry_number)
    return None  # 400/401/403/404/422, format errors and plugin bugs never succeed on retry


class Caller:
    """Calls the owning plugin's hooks (plus any wrappers) for one provider at a time."""

    def __init__(self, manager: pluggy.PluginManager, owners: dict[str, object],
                 transport: Transport, policy: RetryPolicy, health: HealthBook) -> None:
        self._manager = manager
        self._owners = owners
        self._transport = transport
        self._policy = policy
        self._health = health
        self._callers: dict[tuple[str, str], Any] = {}

    def _hook(self, name: str, provider: str) -> Any:
        """Return a hook caller that reaches only this provider's plugin (and wrappers)."""
        key = (name, provider)
        if key not in self._callers:
            others = [p for n, p in self._owners.items() if n != provider]
            self._callers[key] = self._manager.subset_hook_caller(name, remove_plugins=others)
        return self._callers[key]

    def build(self, attempt: Attempt) -> HttpRequest:
        """Ask the provider's plugin for the HTTP request (no I/O)."""
        provider = attempt.request.provider
        try:
            built = self._hook("plugboard_build_request", provider)(
                request=attempt.request, config=attempt.config)
        except PlugboardError:
            raise
        # Any other exception is a plugin bug: name the plugin instead of a bare traceback.
        except Exception as error:
            raise PluginError(provider, "plugboard_build_request",
                              f"{type(error).__name__}: {error}") from error
        if not isinstance(built, HttpRequest):
            raise PluginError(provider, "plugboard_build_request",
                              f"returned {type(built).__name__}, expected plugboard.HttpRequest")
        return built

    async def _events(self, attempt: Attempt, http_request: HttpRequest,
                      timeouts: Timeouts | None, proxy: str | None) -> AsyncIterator[Any]:
        provider = attempt.request.provider
        response = await self._transport.send(provider, http_request, timeouts=timeouts,
                                              proxy=proxy, auth_hint=attempt.config.auth_hint)
        events: Any = None
        try:
            events = self._hook("plugboard_parse_response", provider)(
                request=attempt.request, response=response,
                transport=ProviderTransport(self._transport, provider, timeouts, proxy))
            if not hasattr(events, "__anext__"):
                raise PluginError(provider, "plugboard_parse_response",
                                  f"returned {type(events).__name__}, expected an async iterator")
            while True:
                try:
                    event = await events.__anext__()
                except StopAsyncIteration:
                    return
                if not isinstance(event, EVENT_TYPES):
                    raise PluginError(provider, "plugboard_parse_response",
                                      f"yielded {type(event).__name__}, expected a plugboard event")
                yield event
        except PlugboardError:
            raise
        # Any other exception escaping the parser is a plugin bug, named as such.
        except Exception as error:
            raise PluginError(provider, "plugboard_parse_response",
                              f"{type(error).__name__}: {error}") from error
        finally:
            if events is not None and hasattr(events, "aclose"):
                await events.aclose()
            response.release()

    async def run(self, name: str, attempts: Sequence[Attempt], *, stream: bool,
                  timeouts: Timeouts | None, proxy: str | None) -> AsyncIterator[Emitted]:
        """Yield (provider, model, event); stream=False buffers so a failed try can be redone."""
        errors: list[PlugboardError] = []
        # Providers cooling down go last: skipped while another one works, tried if none does.
        ordered = sorted(attempts, key=lambda a: self._health.is_cooling(a.request.provider))
        for attempt in ordered:
            provider, model = attempt.request.provider, attempt.request.model.id
            retry_number = 0
            while True:
                chars = images = 0
                buffered: list[Emitted] = []
                try:
                    # Built anew for every try, so per-request ids (AmigoChat's device uuid)
                    # are fresh; a missing credential fails here, before any I/O.
                    http_request = self.build(attempt)
                    async for event in self._events(attempt, http_request, timeouts, proxy):
                        if not stream:
                            buffered.append((provider, model, event))
                            continue
                        chars += len(event.text) if isinstance(event, TextDelta) else 0
                        images += isinstance(event, Image)
                        yield provider, model, event
                    self._health.record_success(provider)
                    for item in buffered:
                        yield item
                    return
                except (ProviderError, PluginError) as error:
                    if chars or images:
                        self._health.record_failure(provider, error)
                        cause = error if isinstance(error, ProviderError) else ProviderError(
                            provider, str(error))
                        raise PartialResponseError(cause, delivered_chars=chars,
                                                   delivered_images=images) from error
                    retry_number += 1
                    delay = _retry_delay(self._policy, error, retry_number)
                    if delay is None:
                        log.info("%s failed: %s", provider, error)
                        self._health.record_failure(provider, error)
                        errors.append(error)
                        break
                    log.info("%s failed (%s); retry %d in %.2f s", provider, error,
                             retry_number, delay)
                    await asyncio.sleep(delay)
        if len(errors) == 1:
            raise errors[0]
        raise AllProvidersFailedError(name, errors)
