"""Running one call: build, send, parse; retry and fall back only before content is delivered."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

import attrs
import pluggy

from jackfield._engine.completion import CallNote
from jackfield._engine.health import HealthBook
from jackfield._engine.hook_calls import ProviderHooks
from jackfield._engine.observers import CallWatch, Observers
from jackfield._engine.tries import Deadline, retry_delay
from jackfield._errors import (
    AllProvidersFailedError,
    InvalidRequestError,
    JackfieldError,
    PartialResponseError,
    PluginError,
    ProviderError,
    ResponseFormatError,
    UnknownModelError,
)
from jackfield._http.error_reply import ErrorReply
from jackfield._http.transport import (
    ErrorHook,
    ProviderTransport,
    Transport,
    closed_under_call,
    merged_headers,
)
from jackfield._secrets import credential_headers, redact_call_error
from jackfield._settings.config import ProviderConfig
from jackfield._settings.limits import RetryPolicy, Timeouts
from jackfield._types.events import (
    Finish,
    Image,
    Logprobs,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    Usage,
    Vector,
)
from jackfield._types.notices import CallWarning
from jackfield._types.requests import HttpRequest, ProviderRequest
from jackfield._types.specs import ModelSpec, ProviderSpec

__all__ = ["Caller", "Emitted", "PreparedCall"]

log = logging.getLogger("jackfield")
EVENT_TYPES = (TextDelta, ReasoningDelta, ToolCallDelta, Image, Logprobs, Vector, Usage, Finish)
_PIECES = (TextDelta, ReasoningDelta)
# What a service's error reply may mean (jackfield_error_reply's answers).
_REPLY_ERRORS = (ProviderError, UnknownModelError, InvalidRequestError)
Emitted = tuple[str, str, Any]  # (provider, model id, event)


@attrs.frozen
class PreparedCall:
    """One candidate provider's share of a call, ready to build: its validated request and
    its configuration (built and sent anew on every try)."""

    request: ProviderRequest
    config: ProviderConfig
    download_hosts: tuple[str, ...] = ()  # ProviderSpec.download_hosts, for follow-ups
    warnings: tuple[CallWarning, ...] = ()  # reported with the answer, if this call gives it
    emulated: tuple[str, ...] = ()  # what the core does in the model's place
    stages: tuple[Any, ...] = ()  # event transforms, nearest the provider first

    def note(self, built: HttpRequest) -> CallNote | None:
        """Return the CallNote to send before this call's first event, if there is news
        (the core's warnings, then what the plugin said its request leaves out)."""
        warnings = (*self.warnings, *built.warnings) if built.warnings else self.warnings
        return CallNote(warnings, self.emulated) if warnings or self.emulated else None


class Caller:
    """Calls the owning plugin's hooks (plus any wrappers) for one provider at a time."""

    def __init__(self, manager: pluggy.PluginManager, owners: dict[str, object],
                 transport: Transport, policy: RetryPolicy, health: HealthBook,
                 unknown: Callable[[str, str], object] | None = None) -> None:
        self._unknown = unknown  # told (provider, model id) when a service has no such model
        self._transport = transport
        self._policy = policy
        self._health = health
        # A hook caller that reaches only a provider's plugin (and wrappers).
        self._hook = ProviderHooks(manager, owners).get
        self.observers = Observers(manager)

    def error_hook(self, provider: str, request: ProviderRequest | None) -> ErrorHook:
        """Return the function that asks the provider's plugin what an error reply means."""
        def interpret(reply: ErrorReply) -> JackfieldError | None:
            hook = self._hook("jackfield_error_reply", provider)  # only an error reply asks
            if not hook.get_hookimpls():
                return None
            try:
                error = hook(request=request, reply=reply)
            # A plugin bug in reading an error must not hide the error itself.
            except Exception as bug:
                raise PluginError(provider, "jackfield_error_reply",
                                  f"{type(bug).__name__}: {bug}") from bug
            if error is not None and (not isinstance(error, _REPLY_ERRORS) or isinstance(
                    error, AllProvidersFailedError | PluginError)):
                # A bare JackfieldError (or one about many providers) would escape the call's
                # fallback and masking: what a reply means is one of the errors listed.
                raise PluginError(provider, "jackfield_error_reply",
                                  f"returned {type(error).__name__}, expected a ProviderError "
                                  "subclass, UnknownModelError, InvalidRequestError or None")
            return error

        return interpret

    async def discover(self, spec: ProviderSpec, config: ProviderConfig,
                       timeouts: Timeouts) -> Sequence[ModelSpec] | None:
        """Ask the provider's plugin which models its service has (None: no discovery)."""
        provider = spec.name
        transport = ProviderTransport(self._transport, provider, timeouts, None,
                                      base_url=config.base_url, download_hosts=spec.download_hosts,
                                      headers=config.headers,
                                      error_hook=self.error_hook(provider, None))
        try:
            found = self._hook("jackfield_discover_models", provider)(
                provider=spec, config=config, transport=transport)
            if inspect.isawaitable(found):
                found = await found
        except JackfieldError as error:
            redact_call_error(error, config)
            raise
        except Exception as error:  # a plugin bug, named as such (and reported, not raised)
            redact_call_error(error, config)  # its text may quote the key it was handed
            raise PluginError(provider, "jackfield_discover_models",
                              f"{type(error).__name__}: {error}") from error
        if found is None:
            return None
        if isinstance(found, str | bytes) or not isinstance(found, Sequence) or not all(
                isinstance(model, ModelSpec) for model in found):
            raise PluginError(provider, "jackfield_discover_models",
                              f"returned {type(found).__name__}, expected a list of "
                              "jackfield.ModelSpec or None")
        blank = [model.id for model in found if not isinstance(model.id, str)
                 or not model.id.strip() or model.id != model.id.strip()]
        if blank:  # a service's garbage: it could never be named in a call
            raise PluginError(provider, "jackfield_discover_models",
                              f"listed a model id that is no usable name: {blank[0]!r}")
        return found

    def build(self, call: PreparedCall) -> HttpRequest:
        """Ask the provider's plugin for the HTTP request (no I/O)."""
        provider = call.request.provider
        try:
            built = self._hook("jackfield_build_request", provider)(
                request=call.request, config=call.config)
        except JackfieldError as error:
            redact_call_error(error, call.config)  # InvalidRequestError escapes run() as it is
            raise
        # Any other exception is a plugin bug: name the plugin instead of a bare traceback.
        except Exception as error:
            raise PluginError(provider, "jackfield_build_request",
                              f"{type(error).__name__}: {error}") from error
        if not isinstance(built, HttpRequest):
            raise PluginError(provider, "jackfield_build_request",
                              f"returned {type(built).__name__}, expected jackfield.HttpRequest")
        if call.config.headers:
            built = attrs.evolve(built, headers=merged_headers(built.headers,
                                                               call.config.headers))
        return built

    async def _events(self, call: PreparedCall, http_request: HttpRequest,
                      timeouts: Timeouts | None, proxy: str | None) -> AsyncIterator[Any]:
        provider = call.request.provider
        response = await self._transport.send(
            provider, http_request, timeouts=timeouts, proxy=proxy,
            auth_hint=call.config.reply_hint, model=call.request.model.id,
            error_hook=self.error_hook(provider, call.request))
        del http_request  # its body is not held while the reply is read (memory per stream)
        events: Any = None
        stages: list[Any] = []  # the core's transforms over the parser, outermost last
        try:
            events = self._hook("jackfield_parse_response", provider)(
                request=call.request, response=response,
                transport=ProviderTransport(self._transport, provider, timeouts, proxy,
                                            base_url=call.config.base_url,
                                            download_hosts=call.download_hosts))
            if not hasattr(events, "__anext__"):
                raise PluginError(provider, "jackfield_parse_response",
                                  f"returned {type(events).__name__}, expected an async iterator")
            if not call.stages:
                while True:
                    try:
                        event = await events.__anext__()
                    except StopAsyncIteration:
                        return
                    if not isinstance(event, EVENT_TYPES):
                        raise _not_an_event(provider, event)
                    yield event
            source: Any = _checked(provider, events)
            stages.append(source)
            for stage in call.stages:
                source = stage(source)
                stages.append(source)
            async for event in source:
                yield event
        except InvalidRequestError as error:
            # Nothing about the call was wrong: it was sent. A follow-up fetch refused its URL,
            # and the URLs fetched while parsing come from the provider's reply.
            raise ResponseFormatError(provider, f"the reply named a URL that cannot be "
                                                f"fetched ({error})") from error
        except JackfieldError:
            raise
        # Any other exception escaping the parser is a plugin bug, named as such, unless the
        # registry was closed under the call (the parser then reads a closed connection).
        except Exception as error:
            if self._transport.closed_here():
                raise closed_under_call(provider) from error
            raise PluginError(provider, "jackfield_parse_response",
                              f"{type(error).__name__}: {error}") from error
        finally:
            for stage in reversed(stages):
                await stage.aclose()  # a stage that ended early (stop) leaves its source open
            if events is not None and hasattr(events, "aclose"):
                await events.aclose()
            response.release()

    def run(self, name: str, calls: Sequence[PreparedCall], *, stream: bool,
            timeouts: Timeouts | None, proxy: str | None,
            began: float | None = None) -> AsyncIterator[Emitted]:
        """Yield (provider, model, event); stream=False buffers so a failed try can be redone.

        began: time.perf_counter() when the call was made, for its observers' clock.
        """
        watch = self.observers.watch(name, calls, stream, began)
        tries = self._tries(name, calls, stream, timeouts, proxy, watch)
        return tries if watch is None else watch.follow(tries)

    async def _tries(self, name: str, calls: Sequence[PreparedCall], stream: bool,
                     timeouts: Timeouts | None, proxy: str | None,
                     watch: CallWatch | None) -> AsyncIterator[Emitted]:
        errors: list[JackfieldError] = []
        deadline = Deadline(timeouts or self._transport.timeouts)
        # Providers cooling down go last: skipped while another one works, tried if none does.
        ordered = calls if len(calls) == 1 else sorted(
            calls, key=lambda c: self._health.is_cooling(c.request.provider))
        for call in ordered:
            provider, model = call.request.provider, call.request.model.id
            if watch is not None and errors:
                watch.fell_back(provider, errors[-1])
            retry_number = 0
            while True:
                chars = images = 0
                sent = False  # a failure before sending is our setup's, not the provider's
                buffered: list[Emitted] = []
                # The headers sent: an error page may quote their credentials, so they mask
                # this try's errors. The rest of the request is let go once it is sent.
                headers: Mapping[str, str] | None = None
                try:
                    if watch is not None:
                        watch.try_started(call, retry_number + 1)
                    try_timeouts = deadline.for_next_try(provider)
                    # Built anew for every try, so per-request ids (AmigoChat's device uuid)
                    # are fresh; a missing credential fails here, before any I/O.
                    http_request = self.build(call)
                    # A stream holds them as long as it is open: only those that may carry
                    # a credential are kept for it (bench/CHANGES.md, issue 16: memory). A
                    # non-streamed try keeps the dict it has, gone with the reply: picking
                    # would cost every call ~1 µs for nothing held.
                    headers = (credential_headers(http_request.headers) if stream
                               else http_request.headers)
                    sent = True
                    if watch is not None:
                        watch.sending()
                    note = call.note(http_request)
                    events = self._events(call, http_request, try_timeouts, proxy)
                    del http_request
                    async for event in events:
                        if watch is not None:
                            watch.saw(event)
                        if not stream:
                            buffered.append((provider, model, event))
                            continue
                        if note is not None:  # this try delivers: its warnings are the call's
                            yield provider, model, note
                            note = None
                        chars += len(event.text) if isinstance(event, _PIECES) else 0
                        chars += len(event.arguments) + 1 if isinstance(
                            event, ToolCallDelta) else 0
                        images += isinstance(event, Image)
                        yield provider, model, event
                    self._health.record_success(provider)
                    if note is not None:
                        yield provider, model, note
                    for item in buffered:
                        yield item
                    return
                except (UnknownModelError, InvalidRequestError) as error:
                    if not sent:
                        raise  # the call's own input, refused before anything was sent
                    # The service's own verdict on this model (its jackfield_error_reply):
                    # not the provider's ill health, and no retry helps. The next one may do.
                    if isinstance(error, UnknownModelError) and error.provider is None:
                        # The plugin's hook said "unknown model": say whose service said it
                        # (quoting the service's words, if the hook passed them on).
                        error = UnknownModelError.from_service(provider, model, error.detail)
                    if isinstance(error, UnknownModelError) and self._unknown is not None:
                        self._unknown(provider, model)  # its listing may be out of date
                    redact_call_error(error, call.config, headers,
                                      proxy or self._transport.proxy)
                    log.info("%s refused the call: %s", provider, error)
                    errors.append(error)
                    if watch is not None:
                        watch.try_failed(error)
                    break
                except (ProviderError, PluginError) as error:
                    # An error page may quote our request: mask its secrets before anyone
                    # (log, health, caller) sees the error.
                    redact_call_error(error, call.config, headers,
                                      proxy or self._transport.proxy)
                    if chars or images:
                        self._failed(provider, error, watch)
                        cause = error if isinstance(error, ProviderError) else ProviderError(
                            provider, str(error))
                        raise PartialResponseError(cause, delivered_chars=chars,
                                                   delivered_images=images) from error
                    if deadline.expired():
                        errors.append(error)
                        if watch is not None:
                            watch.try_failed(error)
                        break
                    retry_number += 1
                    delay = retry_delay(self._policy, error, retry_number)
                    if delay is not None and not deadline.allows(delay):
                        delay = None  # waiting would use up the call's total timeout
                    if delay is None:
                        log.info("%s failed: %s", provider, error)
                        if sent:  # a missing credential must not put the provider on cooldown
                            self._failed(provider, error, watch)
                        elif watch is not None:
                            watch.try_failed(error)
                        errors.append(error)
                        break
                    log.info("%s failed (%s); retry %d in %.2f s", provider, error,
                             retry_number, delay)
                    if watch is not None:
                        watch.try_failed(error, retry_in=delay)
                    await asyncio.sleep(delay)
            if deadline.expired():
                break  # the total timeout covers every provider: do not start another
        if len(errors) == 1:
            raise errors[0]
        raise AllProvidersFailedError(name, errors)

    def _failed(self, provider: str, error: JackfieldError, watch: CallWatch | None) -> None:
        """Record a failed try in the provider's health; tell the observers of its cooldown."""
        self._health.record_failure(provider, error)
        if watch is not None:
            watch.try_failed(error, cooldown=self._health.policy.seconds
                             if self._health.is_cooling(provider) else None)


def _not_an_event(provider: str, event: object) -> PluginError:
    return PluginError(provider, "jackfield_parse_response",
                       f"yielded {type(event).__name__}, expected a jackfield event")


async def _checked(provider: str, events: Any) -> AsyncIterator[Any]:
    """Yield the parser's events, refusing anything that is not a jackfield event."""
    async for event in events:
        if not isinstance(event, EVENT_TYPES):
            raise _not_an_event(provider, event)
        yield event
