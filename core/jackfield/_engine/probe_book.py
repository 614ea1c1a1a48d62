"""What probes found, as a registry keeps it: ProbeResult and ProbeReport, the ProbeBook
(the probe file read when first needed, and again when another process rewrote it) and
ProbePolicy, which lets routing skip a candidate whose last probe failed (a warning says
so). How probes are made: jackfield._engine.probes."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs

from jackfield._secrets import mask_known
from jackfield._settings.checks import duration, flag
from jackfield._settings.probe_store import default_path, load, save
from jackfield._types.notices import CallWarning

if TYPE_CHECKING:
    from pathlib import Path

    from jackfield._engine.preparing import Prepared
    from jackfield._engine.registry import Registry
    from jackfield._engine.routing import Candidate

__all__ = ["ProbeBook", "ProbePolicy", "ProbeReport", "ProbeResult", "Status", "kept",
           "masked", "noted"]

Status = Literal["works", "failing", "needs credentials", "skipped", "not probed"]
_MESSAGE_CHARS = 300  # an error page quoted whole would swamp a table
_RECHECK = 2.0  # seconds between two looks at the file's mtime (another process's probes)


@attrs.frozen
class ProbePolicy:
    """What routing makes of probes: skip_failing=True leaves out a candidate whose last
    probe (younger than max_age seconds) failed, unless it was pinned ("provider/model") or
    every candidate would be left out; each skip is a warning of the call."""

    skip_failing: bool = attrs.field(default=False, validator=flag)
    max_age: float = attrs.field(default=3600.0, validator=duration())


@attrs.frozen
class ProbeResult:
    """One model's probe: status, the error's class and masked message, latency (seconds),
    when it was probed and when it last worked (epoch seconds)."""

    provider: str
    model: str  # "" for a provider with no model to probe (none listed)
    kind: str
    status: Status
    error: str | None = None
    message: str | None = None
    latency: float | None = None
    probed_at: float | None = None
    last_success: float | None = None

    @property
    def key(self) -> str:
        """Return "provider/model" (just "provider" for a provider-wide result)."""
        return f"{self.provider}/{self.model}" if self.model else self.provider

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return attrs.asdict(self)

    def stored(self) -> dict[str, Any]:
        """Return the entry the probe file keeps (provider and model are its key)."""
        return {k: v for k, v in self.to_dict().items() if k not in ("provider", "model")}


@attrs.frozen
class ProbeReport:
    """What one round of probes found, and how many requests it sent (within budget)."""

    results: tuple[ProbeResult, ...]
    sent: int
    budget: int
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {"sent": self.sent, "budget": self.budget, "warnings": list(self.warnings),
                "results": [result.to_dict() for result in self.results]}


class ProbeBook:
    """A registry's last probe results: loaded from the probe file when first needed (and
    again when another process rewrote it), updated by registry.probe()."""

    def __init__(self, policy: ProbePolicy, environ: Mapping[str, str], *, real: bool) -> None:
        self.policy = policy
        self._where: tuple[Mapping[str, str], bool] | None = environ, real
        self._path: Path | None = None
        self._entries: dict[str, dict[str, Any]] | None = None
        self._seen: int | None = None  # the file's mtime when it was read
        self._looked = 0.0
        self.warning: str | None = None  # why the file was ignored, if it was

    @property
    def path(self) -> Path | None:
        """Return the probe file (found when first needed: platformdirs costs start-up)."""
        if self._path is None and self._where is not None:
            self._path, self._where = default_path(self._where[0], real=self._where[1]), None
        return self._path

    def entries(self) -> dict[str, dict[str, Any]]:
        """Return key -> stored entry (a copy)."""
        now = time.monotonic()
        if self._entries is None or (self.path is not None and now - self._looked > _RECHECK):
            self._looked = now
            mtime = _mtime(self.path)
            if self._entries is None or mtime != self._seen:
                self._entries, self.warning = load(self.path)
                self._seen = mtime
        return dict(self._entries)

    def record(self, results: Iterable[ProbeResult]) -> str | None:
        """Keep results (and write them to the file); return a warning if it was not saved."""
        kept = {r.key: r.stored() for r in results if r.status in ("works", "failing",
                                                                    "needs credentials")}
        self._entries = {**self.entries(), **kept}
        problem = save(self.path, kept)
        self._seen = _mtime(self.path)
        return problem

    def skip(self, name: str, candidates: list[Candidate],
             ) -> tuple[list[Candidate], tuple[CallWarning, ...]]:
        """Return the candidates to try and the warnings that say which were skipped."""
        if not self.policy.skip_failing:
            return candidates, ()
        head = name.partition("/")[0]
        if len(candidates) == 1 and candidates[0].provider.name == head:
            return candidates, ()  # pinned ("provider/model", or the provider's default)
        entries, now = self.entries(), time.time()
        failed = {}
        for candidate in candidates:
            entry = entries.get(f"{candidate.provider.name}/{candidate.model.id}")
            if entry and entry["status"] == "failing" and (
                    now - entry["probed_at"] < self.policy.max_age):
                failed[id(candidate)] = f"{candidate.provider.name}/{candidate.model.id} " \
                    f"({entry['error']}, {_age(now - entry['probed_at'])} ago)"
        if not failed:
            return candidates, ()
        kept = [c for c in candidates if id(c) not in failed]
        named = ", ".join(failed.values())
        if not kept:
            # A probe's verdict is old news by the time a call comes: refusing without a
            # request would make it an outage. Tried, as a cooling-down provider is.
            return candidates, (CallWarning("model", f"the last probe of every candidate "
                                f"for {name!r} failed ({named}); tried anyway"),)
        return kept, (CallWarning("model", f"skipped for {name!r}, its last probe failed: "
                                           f"{named} ([probes] skip_failing)"),)


def kept(registry: Registry) -> dict[str, dict[str, Any]]:
    """Return registry's last probe outcomes: "provider/model" -> entry (see probe_store)."""
    return registry._probes.entries()


def noted(prepared: Prepared, notes: tuple[CallWarning, ...]) -> Prepared:
    """Return prepared with notes among every call's warnings (whichever call answers)."""
    if not notes:
        return prepared
    return attrs.evolve(prepared, calls=[attrs.evolve(call, warnings=(*notes, *call.warnings))
                                         for call in prepared.calls])


def _mtime(path: Path | None) -> int | None:
    import os

    try:
        return None if path is None else os.stat(path).st_mtime_ns
    except OSError:
        return None


def _age(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def masked(error: BaseException | str) -> str:
    text = mask_known(" ".join(str(error).split()))
    return text if len(text) <= _MESSAGE_CHARS else text[:_MESSAGE_CHARS - 1] + "…"
