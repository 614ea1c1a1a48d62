"""What each feature of a short call costs, in instructions: the call with it patched out.

The profile behind the missed library targets of issue 16. Each row is callgrind's count of N
non-streamed calls at c=64 through `Registry.complete()` against the AmigoChat emulator (a
run of N calls minus a run of none, bench/harness/callgrind.py), with one feature of the call
patched out of the counted process; "every feature above off" patches out all of them. What
still stands between that and raw aiohttp (the benchmark's own limit,
bench/workers/raw_worker.py, which builds the same request afresh for every call) is the call
itself: the plugin's request and parser, the hook calls and the event pipe between them,
routing, the retry loop and the Completion. The patches break what they remove (a stalled
reply would hang, a reply of any size would be read): this is a diagnostic that reaches into
private names, never a mode of jackfield.
Usage: python bench/ablation.py [--calls 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import attrs
from harness.callgrind import per_call
from layers import run_calls

from jackfield import Registry

sys.path.insert(0, str(Path(__file__).with_name("workers")))  # the benchmark's own clients
from benchloop import SHORT_PROMPT
from raw_worker import RawClient

CALLS = 2000
MESSAGES = [{"role": "user", "content": SHORT_PROMPT}]  # what the benchmark's workers send
RAW, NONE, ALL = "raw aiohttp (the limit)", "jackfield, every feature on", "every feature above off"


def replace(owner: object, name: str, value: object) -> None:
    """Put value in place of owner's attribute (a patch of the counted process only)."""
    setattr(owner, name, value)


def no_read_idle(registry: Registry) -> None:
    """aiohttp's read-idle timer (sock_read): re-armed on every chunk received."""
    # Frozen, and validated positive: only a diagnostic may put None there.
    object.__setattr__(registry.timeouts, "read_idle", None)


def no_reply_checks(registry: Registry) -> None:
    """The reply size limit and the typed errors of a read (HttpResponse._next_chunk)."""
    from jackfield._http.response import HttpResponse

    replace(HttpResponse, "_next_chunk", lambda self: self._raw.content.readany())


def no_fresh_ids(registry: Registry) -> None:
    """AmigoChat's two per-request UUIDs (chatId, x-device-uuid), made anew for every try."""
    import jackfield_amigochat.wire as wire

    fixed = wire.fresh_uuid()
    replace(wire, "fresh_uuid", lambda: fixed)


def no_message_checks(registry: Registry) -> None:
    """Normalizing and checking the messages (dicts into Message objects)."""
    import jackfield._engine.preparing as preparing

    done = vars(preparing)["normalize_messages"](MESSAGES, [])
    replace(preparing, "normalize_messages", lambda messages, noted: done)


def no_option_checks(registry: Registry) -> None:
    """Checking the options against the model's declared ones (here none are given)."""
    import jackfield._engine.preparing as preparing

    spec = next(spec for spec in registry.providers() if spec.name == "amigochat")
    done = vars(preparing)["validate_options"]("amigochat", "chat", spec.options, {})
    replace(preparing, "validate_options", lambda *args: done)


def no_discovery_check(registry: Registry) -> None:
    """The check before a call that the services which list their models were asked (the
    openai, anthropic and ollama plugins of the venv are installed, unconfigured)."""

    async def asked(*args: Any) -> None:
        return None

    replace(registry._refresher, "before_call", asked)


def no_health(registry: Registry) -> None:
    """Health: the provider order by cooldown, and every success recorded."""
    from jackfield._engine.health import HealthBook

    replace(HealthBook, "is_cooling", lambda self, provider: False)
    replace(HealthBook, "record_success", lambda self, provider: None)


FEATURES: dict[str, Callable[[Registry], None]] = {
    "read-idle timer (aiohttp's sock_read)": no_read_idle,
    "reply size limit, typed read errors": no_reply_checks,
    "fresh request ids (two uuid4 per try)": no_fresh_ids,
    "message normalization and checks": no_message_checks,
    "option checks against the model": no_option_checks,
    "discovery check before a call": no_discovery_check,
    "health (cooldown order, successes)": no_health,
}
LABELS = (RAW, NONE, *FEATURES, ALL)


def patches(label: str) -> Iterable[Callable[[Registry], None]]:
    """Return the patches a counted run applies."""
    if label == ALL:
        return FEATURES.values()
    return [FEATURES[label]] if label in FEATURES else []


async def counted_run(label: str, url: str, calls: int) -> None:
    """Make the calls of one counted run (after a warm-up of every code path)."""
    registry = Registry.discover(config={"amigochat": {"base_url": url}}, environ={})
    for patch in patches(label):
        patch(registry)
    raw = RawClient()
    if label == RAW:
        await raw.start(url)

        async def call() -> None:
            assert await raw.one("json"), "no reply"
    else:
        async def call() -> None:
            completion = await registry.complete("gpt-4o-mini", MESSAGES)
            assert completion.text, "a patch broke the call"
    try:
        await run_calls(call, 128)
        await run_calls(call, calls)
    finally:
        await raw.close()
        await registry.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=CALLS)
    parser.add_argument("--only", choices=LABELS, help=argparse.SUPPRESS)  # one counted run
    parser.add_argument("--url", help=argparse.SUPPRESS)  # the emulator of that run
    args = parser.parse_args()
    if args.only is not None:
        asyncio.run(counted_run(args.only, args.url, args.calls))
        return
    print(json.dumps(ablation(args.calls), indent=1))


def ablation(calls: int) -> dict[str, Any]:
    """Start the emulator; return what each feature costs per call, and what remains."""
    server = subprocess.Popen([sys.executable, str(Path(__file__).with_name("emulator_server.py"))],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        url = json.loads(server.stdout.readline())["url"]
        counts = per_call(lambda label, n: [sys.executable, __file__, "--only", label,
                                            "--calls", str(n), "--url", url], LABELS, calls)
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(10)
    full, raw = counts[NONE], counts[RAW]
    return attrs.asdict(Ablation(calls, raw, full, counts[ALL], {
        name: full - counts[name] for name in FEATURES}))


@attrs.frozen
class Ablation:
    """Instructions per call: raw aiohttp, jackfield, jackfield without the listed features,
    and each feature's cost (jackfield minus jackfield without it)."""

    calls: int
    raw: float
    jackfield: float
    without_features: float
    features: dict[str, float]


if __name__ == "__main__":
    main()
