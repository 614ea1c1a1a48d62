"""The conformance kit: the cases every plugin runs against its own emulator, and the plain
async runner that `jackfield check` and the pytest adapter share.

`await run_conformance(Conformance(plugin))` returns one `CaseResult` per case (pass, fail or
skip, with a message that says what is wrong). Each case runs in a fresh emulator and
registry (`_conformance_env.Env`), on loopback only, and fails as well when it leaked a
ResourceWarning, tried to leave loopback, or let a configured secret into an error's text
or repr or a log line.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
import warnings
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import attrs

from jackfield.testing._conformance_env import Case, Conformance, Env, Failed, Skipped

__all__ = ["CaseResult", "Conformance", "conformance_cases", "run_case", "run_conformance"]

Outcome = Literal["pass", "fail", "skip"]
CASE_TIMEOUT = 30.0  # seconds: a case that hangs fails rather than blocking the run


@attrs.frozen
class CaseResult:
    """The outcome of one case: `outcome` is "pass", "fail" or "skip"; `message` says why."""

    plugin: str
    case: str
    outcome: Outcome
    message: str
    seconds: float = 0.0

    def line(self) -> str:
        """Return the one-line report `jackfield check` prints."""
        return f"{self.outcome.upper():4} {self.plugin} {self.case}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {"plugin": self.plugin, "case": self.case, "outcome": self.outcome,
                "message": self.message, "seconds": round(self.seconds, 3)}


def conformance_cases() -> list[Case]:
    """Return every case, in the order they run (the same for every plugin: a case that
    does not apply to one skips, saying why)."""
    from jackfield.testing._conformance_capabilities import capability_cases
    from jackfield.testing._conformance_faults import fault_cases
    from jackfield.testing._conformance_streams import stream_cases

    return [*stream_cases(), *fault_cases(), *capability_cases()]


class _Lines(logging.Handler):
    """Keeps every log record's rendered text (message and traceback) during a case."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append((f"a log line of logger {record.name!r}", self.format(record)))


def _texts_of(error: BaseException) -> Iterable[tuple[str, str]]:
    seen: set[int] = set()
    stack = [error]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        where = f"the text of a {type(item).__name__}"
        yield where, str(item)
        yield where, repr(item)
        yield from ((where, str(value)) for value in vars(item).values()
                    if isinstance(value, str | bytes)) if hasattr(item, "__dict__") else ()
        stack += [linked for linked in (item.__cause__, item.__context__) if linked]


def _leaked_secret(env: Env, texts: Iterable[tuple[str, str]]) -> str | None:
    for where, text in texts:
        for name, value in env.secrets.items():
            if value in text:
                at = text.index(value)
                return (f"the secret setting {name!r} leaked into {where}: "
                        f"{text[max(0, at - 60):at]!r}<the secret> (never put a credential "
                        "in an error, repr or log line)")
    return None


async def _run_in_env(target: Conformance, case: Case) -> str:
    lines = _Lines()
    root = logging.getLogger()
    level = root.level
    root.addHandler(lines)
    root.setLevel(logging.DEBUG)
    env: Env | None = None
    try:
        env = Env(target)
        try:
            async with env:
                async with asyncio.timeout(CASE_TIMEOUT):  # not wait_for: it may lose a cancel
                    detail: str = await case.run(env)
                registry_text = [("the registry's repr", repr(env.registry)),
                                 ("the config's repr", repr(env.registry.config(env.name)))]
        except TimeoutError:
            raise Failed(f"the case did not end within {CASE_TIMEOUT:g} s") from None
    finally:
        root.removeHandler(lines)
        root.setLevel(level)
        if env is not None:
            texts = [*lines.texts, *(t for error in env.errors for t in _texts_of(error))]
            leaked = _leaked_secret(env, texts)
            if leaked:
                raise Failed(leaked)
    leaked = _leaked_secret(env, registry_text)
    if leaked:
        raise Failed(leaked)
    return detail


async def run_case(target: Conformance, case: Case) -> CaseResult:
    """Run one case in a fresh emulator and registry; return its result (never raises for
    what the plugin did)."""
    from jackfield.testing._network import only_loopback

    plugin = _plugin_name(target)
    started = time.monotonic()
    reason = target.skipped(case.id)
    if reason is not None:
        return CaseResult(plugin, case.id, "skip", f"declared: {reason}")
    outcome: Outcome = "pass"
    with warnings.catch_warnings(record=True) as caught, only_loopback() as refused:
        warnings.simplefilter("always")
        before = len(refused)
        try:
            message = await _run_in_env(target, case)
            gc.collect()  # unclosed sessions and connections warn when they are collected
        except Failed as failure:
            outcome, message = "fail", str(failure)
        except Skipped as skipped:
            outcome, message = "skip", str(skipped)
        # A hook that raised where the case did not expect it: the case's finding.
        except Exception as error:  # noqa: BLE001
            outcome, message = "fail", f"unexpected {type(error).__name__}: {error}"
        tried = refused[before:]
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    for other in (w for w in caught if not issubclass(w.category, ResourceWarning)):
        warnings.warn_explicit(other.message, other.category, other.filename, other.lineno)
    if tried:
        outcome, message = "fail", f"tried to connect beyond loopback: {', '.join(tried)}"
    elif leaks and outcome != "fail":
        outcome, message = "fail", f"leaked a resource: ResourceWarning: {leaks[0]}"
    return CaseResult(plugin, case.id, outcome, message, time.monotonic() - started)


async def run_conformance(target: Conformance, *, select: Sequence[str] = ()
                          ) -> list[CaseResult]:
    """Run every case (or those whose id starts with one of select) one after the other."""
    results = []
    for case in conformance_cases():
        if select and not any(case.id.startswith(start) for start in select):
            continue
        results.append(await run_case(target, case))
    return results


def _plugin_name(target: Conformance) -> str:
    try:
        return target.spec.name
    except Exception:  # a broken provider hook: its own case reports it  # noqa: BLE001
        return getattr(target.plugin, "__name__", type(target.plugin).__name__)
