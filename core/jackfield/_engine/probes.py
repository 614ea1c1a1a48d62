"""Live probes: one minimal real request per model, to learn that a service changed before a
user's call does (`registry.probe()`, `jackfield probe`, `jackfield serve --probe-every`).

A probe goes the normal way (the plugin's build and parse hooks, the core's transport) with
three differences, each deliberate:

- **No retries**: one probe is one request, so `budget` counts exactly what is sent, and a
  probe says what a single request got now (a retry would hide a flaky service and spend
  the budget twice). The next round probes again.
- **Its own health book**: a probe's failure does not cool a provider down for the calls;
  what probes found changes routing only where `ProbePolicy(skip_failing=True)` asks.
- **Built first, without I/O**: a provider whose credentials are not configured fails its
  build (`AuthenticationError` before anything is sent): "needs credentials", no request.

Image models are skipped unless images=True: an image costs (and takes) far more than a
one-word chat. Requests start at most `rate` per second (across providers), each within
`timeout`; targets probed longest ago go first, so a small budget rotates over many models.
Listing a discovering provider's models (a free GET) comes first and is not a probe.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from jackfield._engine.probe_book import ProbeReport, ProbeResult, Status, masked

if TYPE_CHECKING:
    from jackfield._engine.dispatch import PreparedCall
    from jackfield._engine.registry import Registry
    from jackfield._engine.routing import Candidate

__all__ = ["CHAT_PROBE", "EMBEDDING_PROBE", "IMAGE_PROBE", "run_probes", "targets"]

# What a probe sends (the guide, section 8, tells plugin authors the same).
CHAT_PROBE = ("Reply with one word: ok", {"max_tokens": 16, "temperature": 0})
EMBEDDING_PROBE = "ok"
IMAGE_PROBE = "a small red square"


async def targets(registry: Registry, names: Sequence[str],
                  ) -> tuple[list[Candidate], list[ProbeResult]]:
    """Return what to probe: every model (no names), a provider's models, or the candidates
    a model name resolves to; and a result for each provider named (or, for no names, any)
    that has no model to probe. The lists of the discovering providers that could hold the
    names are asked for first (when stale); then an unknown name raises, before any probe."""
    from jackfield._engine.routing import Candidate

    providers = {spec.name: spec for spec in registry.providers()}
    book = registry._book
    # The lists that could hold what is named: a provider's, a pin's, else every one.
    wanted = {head for name in names if (head := name.partition("/")[0]) in providers}
    if not names or any(name.partition("/")[0] not in providers for name in names):
        wanted = set(providers)
    for name in sorted(wanted & book.discovering):
        await registry.refresh_models(name, stale_only=True)
    providers = {spec.name: spec for spec in registry.providers()}  # lists may have changed
    found: list[Candidate] = []
    empty: list[ProbeResult] = []
    warnings = book.warnings()
    for name in names or list(providers):
        if name not in providers:
            found += registry.resolve(name)
        elif providers[name].models:
            found += [Candidate(providers[name], model) for model in providers[name].models]
        elif book.unconfigured(name):  # its listing was refused before any I/O
            empty.append(ProbeResult(name, "", "chat", "needs credentials",
                                     "AuthenticationError", masked(warnings.get(name, "")),
                                     probed_at=time.time()))
        else:
            failed = book.failed(name)
            empty.append(ProbeResult(name, "", "chat", "failing" if failed else "skipped",
                                     message=masked(warnings.get(name, "")) if failed
                                     else "it lists no model to probe",
                                     probed_at=time.time() if failed else None))
    return list({(c.provider.name, c.model.id): c for c in found}.values()), empty


def _result(candidate: Candidate, status: Status, **fields: Any) -> ProbeResult:
    return ProbeResult(candidate.provider.name, candidate.model.id, candidate.model.kind,
                       status, **fields)


def _prepared(registry: Registry, candidate: Candidate) -> PreparedCall:
    """Return the probe's call for one candidate, checked as every call is (no I/O)."""
    from jackfield._engine.embedding import prepare_embedding
    from jackfield._engine.preparing import prepare

    qualified = f"{candidate.provider.name}/{candidate.model.id}"
    if candidate.model.kind == "embedding":
        return prepare_embedding([candidate], qualified, [EMBEDDING_PROBE], None, {},
                                 configs=registry._configs, models=[])[0]
    text, options = (IMAGE_PROBE, {}) if candidate.model.kind == "image" else CHAT_PROBE
    return prepare([candidate], text, False, options, configs=registry._configs,
                   prompted=frozenset(), strict=False, models=registry.models).calls[0]


async def run_probes(registry: Registry, names: Sequence[str], *, budget: int, rate: float,
                     timeout: float, images: bool) -> ProbeReport:
    """Probe the models names stands for (see targets()); see the module docstring."""
    import asyncio

    from jackfield._engine.dispatch import Caller
    from jackfield._engine.health import HealthBook
    from jackfield._errors import AuthenticationError, JackfieldError
    from jackfield._settings.limits import RetryPolicy, Timeouts

    _check(budget, rate, timeout)
    chosen, empty = await targets(registry, names)
    shared = registry._get_caller()  # opens the registry's transport: probes share it
    caller = Caller(registry._plugins.manager, registry._plugins.owners, shared._transport,
                    RetryPolicy(attempts=1), HealthBook(), registry._book.expire)
    entries = registry._probes.entries()
    results: dict[str, ProbeResult] = {}
    due: list[tuple[Candidate, PreparedCall]] = []
    for candidate in chosen:
        key = f"{candidate.provider.name}/{candidate.model.id}"
        if candidate.model.kind == "image" and not images:
            results[key] = _result(candidate, "skipped", message="an image model: an image "
                                   "costs, so it is probed only when asked (images=True, "
                                   "`jackfield probe --images`)")
            continue
        try:
            call = _prepared(registry, candidate)
            caller.build(call)  # a missing credential fails here, before any I/O
        except AuthenticationError as error:
            results[key] = _result(candidate, "needs credentials", error=type(error).__name__,
                                   message=masked(error), probed_at=time.time(),
                                   last_success=_last(entries, key))
            continue
        except JackfieldError as error:  # the call was refused as prepared: no request
            results[key] = _result(candidate, "failing", error=type(error).__name__,
                                   message=masked(error), probed_at=time.time(),
                                   last_success=_last(entries, key))
            continue
        due.append((candidate, call))
    # Probed longest ago (or never) first: a small budget goes round the models over rounds.
    due.sort(key=lambda pair: entries.get(_key(pair[0]), {}).get("probed_at", 0.0))
    for candidate, _call in due[budget:]:
        results[_key(candidate)] = _result(candidate, "not probed", message=f"the budget of "
                                           f"{budget} requests was used up")
    limits = registry.timeouts
    timeouts = Timeouts(connect=min(limits.connect, timeout),
                        read_idle=min(limits.read_idle, timeout), total=timeout)
    loop = asyncio.get_running_loop()
    start = loop.time()

    async def one(slot: int, candidate: Candidate, call: PreparedCall) -> None:
        # Request n starts n / rate seconds after the first: never more than rate a second.
        await asyncio.sleep(max(0.0, start + slot / rate - loop.time()))
        key = _key(candidate)
        probed_at, began = time.time(), loop.time()
        try:
            async with asyncio.timeout(timeout + 1):  # the total timeout ends it before
                message = await _send(caller, key, call, timeouts)
        except JackfieldError as error:
            results[key] = _result(candidate, "failing", error=type(error).__name__,
                                   message=masked(error), latency=loop.time() - began,
                                   probed_at=probed_at, last_success=_last(entries, key))
            return
        except TimeoutError:
            results[key] = _result(candidate, "failing", error="ProviderTimeoutError",
                                   message=f"no reply within the probe timeout of {timeout:g} s",
                                   latency=loop.time() - began, probed_at=probed_at,
                                   last_success=_last(entries, key))
            return
        results[key] = _result(candidate, "works", message=message,
                               latency=loop.time() - began, probed_at=probed_at,
                               last_success=probed_at)

    async with asyncio.TaskGroup() as group:
        for slot, (candidate, call) in enumerate(due[:budget]):
            group.create_task(one(slot, candidate, call))
    ordered = [*empty, *(results[_key(c)] for c in chosen)]
    problem = registry._probes.record(ordered)
    warnings = tuple(w for w in (registry._probes.warning, problem) if w)
    return ProbeReport(tuple(ordered), min(len(due), budget), budget, warnings)


async def _send(caller: Any, name: str, call: PreparedCall, timeouts: Any) -> str | None:
    """Send the one request and read its reply whole; return a note on an empty reply."""
    from jackfield._engine.completion import collect
    from jackfield._engine.embedding import collect_embeddings
    from jackfield._errors import ResponseFormatError

    kind = call.request.model.kind
    # Closed however the probe ends: a round cancelled at shutdown closes its connection.
    async with contextlib.aclosing(caller.run(name, [call], stream=False, timeouts=timeouts,
                                              proxy=None)) as events:
        if kind == "embedding":
            await collect_embeddings(events, 1, None)
            return None
        completion = await collect(events)
    if kind == "image" and not completion.images:
        raise ResponseFormatError(call.request.provider, "the image reply held no image")
    if kind == "chat" and not (completion.text or completion.reasoning):
        # The service answered in its protocol: it works, though the reply says little.
        return f"the reply was empty (finish reason: {completion.finish_reason})"
    return None


def _check(budget: int, rate: float, timeout: float) -> None:
    from jackfield._errors import InvalidRequestError

    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 0:
        raise InvalidRequestError(f"budget must be a whole number of requests (0 or more), "
                                  f"got {budget!r}.", param="budget")
    for name, value in (("rate", rate), ("timeout", timeout)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not (
                0 < value < float("inf")):
            raise InvalidRequestError(f"{name} must be a positive number, got {value!r}.",
                                      param=name)


def _key(candidate: Candidate) -> str:
    return f"{candidate.provider.name}/{candidate.model.id}"


def _last(entries: Mapping[str, Mapping[str, Any]], key: str) -> float | None:
    value = entries.get(key, {}).get("last_success")
    return float(value) if isinstance(value, int | float) else None
