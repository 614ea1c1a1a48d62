"""Where jackfield's per-call CPU goes: the same short call measured layer by layer.

Starts the AmigoChat emulator in its own process (bench/emulator_server.py), then measures
client CPU per call at concurrency 64 for each layer, interleaved round by round:
raw aiohttp on jackfield's own session, the transport alone, + the plugin's parser,
+ request building, the core's event pipe (_events), the retrying loop (Caller.run), and
Registry.complete(). Each row minus the one above is that layer's cost. It reaches into
private names on purpose: it is a diagnostic, not an API.
--instructions counts each layer under valgrind's callgrind instead (a run of N calls minus a
run of none, as bench/instructions.py does): the same count whatever else runs.
Usage: python bench/layers.py [--calls 3000] [--rounds 7] [--instructions]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from harness.callgrind import per_call

from jackfield import Registry
from jackfield._http.transport import ProviderTransport
from jackfield.provider import CompletionRequest
from jackfield_amigochat.parsing import parse_response

MESSAGES = [{"role": "user", "content": "hello there how are you"}]
CALLS, CONCURRENCY, ROUNDS = 3000, 64, 7  # the defaults of --calls and --rounds
LAYERS = ("raw aiohttp", "transport.send + json", "+ plugin parser", "+ request building",
          "core event pipe (_events)", "Caller.run (retries, deadline)", "Registry.complete")


async def run_calls(call: Callable[[], Awaitable[None]], calls: int) -> None:
    """Make `calls` calls from CONCURRENCY loops, as the benchmark's workers do (not `calls`
    tasks at once behind a semaphore, whose pending coroutines the collector would walk)."""

    async def loop(count: int) -> None:
        for _ in range(count):
            await call()

    await asyncio.gather(*(loop(calls // CONCURRENCY + (i < calls % CONCURRENCY))
                           for i in range(CONCURRENCY)))


async def cpu_per_call(call: Callable[[], Awaitable[None]], calls: int) -> float:
    """Return the client's CPU microseconds per call for `calls` calls at CONCURRENCY."""
    started = time.process_time()
    await run_calls(call, calls)
    return (time.process_time() - started) / calls * 1e6


async def measure(url: str, calls: int, rounds: int, only: str | None = None
                  ) -> dict[str, float]:
    """Return the median CPU per call of every layer; with only, make that layer's calls
    (after a warm-up) and return nothing: the run callgrind counts."""
    registry = Registry.discover(config={"amigochat": {"base_url": url}}, environ={})
    caller = registry._get_caller()
    transport = registry._transport
    assert transport is not None
    attempt = registry._prepare("gpt-4o-mini", MESSAGES, False, {}).calls[0]
    chat_request = attempt.request
    assert isinstance(chat_request, CompletionRequest)  # a chat model's call
    built = caller.build(attempt)
    follow_up = ProviderTransport(transport, "amigochat", None, None)

    async def raw() -> None:
        session = transport._get_session("amigochat")
        async with session.request("POST", built.url, headers=dict(built.headers),
                                   json=built.json) as response:
            await response.json()

    async def transport_only() -> None:
        response = await transport.send("amigochat", built)
        await response.json()
        response.release()

    async def with_parser(request_built: bool = False) -> None:
        request = caller.build(attempt) if request_built else built
        response = await transport.send("amigochat", request)
        async for _ in parse_response(chat_request, response, follow_up):
            pass
        response.release()

    async def with_build() -> None:
        await with_parser(request_built=True)

    async def events() -> None:
        async for _ in caller._events(attempt, caller.build(attempt), None, None):
            pass

    async def run() -> None:
        async for _ in caller.run("gpt-4o-mini", [attempt], stream=False, timeouts=None,
                                  proxy=None):
            pass

    async def complete() -> None:
        await registry.complete("gpt-4o-mini", MESSAGES)

    layers = dict(zip(LAYERS, (raw, transport_only, with_parser, with_build, events, run,
                               complete), strict=True))
    samples: dict[str, list[float]] = {name: [] for name in layers}
    try:
        if only is not None:
            await run_calls(layers[only], 2 * CONCURRENCY)  # warm: the pool, every code path
            await run_calls(layers[only], calls)
            return {}
        for call in layers.values():
            await call()  # warm every path before measuring
        for round_number in range(rounds):
            names = list(layers)
            names = names[round_number % len(names):] + names[:round_number % len(names)]
            for name in names:
                samples[name].append(await cpu_per_call(layers[name], calls))
    finally:
        await registry.aclose()
    return {name: statistics.median(values) for name, values in samples.items()}


def instructions(url: str, calls: int) -> dict[str, float]:
    """Return every layer's instructions per call (callgrind, N calls minus none)."""
    return per_call(lambda layer, n: [sys.executable, __file__, "--only", layer, "--calls",
                                      str(n), "--url", url], LAYERS, calls)


def main() -> None:
    """Start the emulator, measure, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=CALLS, help="calls per layer and round")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions per call under callgrind instead of CPU time")
    parser.add_argument("--only", choices=LAYERS, help=argparse.SUPPRESS)  # one counted run
    parser.add_argument("--url", help=argparse.SUPPRESS)  # the emulator of that run
    args = parser.parse_args()
    if args.only is not None:
        asyncio.run(measure(args.url, args.calls, 1, only=args.only))
        return
    server = subprocess.Popen([sys.executable, str(Path(__file__).with_name("emulator_server.py"))],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        url = json.loads(server.stdout.readline())["url"]
        results = (instructions(url, args.calls) if args.instructions
                   else asyncio.run(measure(url, args.calls, args.rounds)))
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(10)
    if args.instructions:
        print(f"client instructions per call (callgrind), {args.calls} calls at c={CONCURRENCY}")
    else:
        print(f"client CPU per call, median of {args.rounds} rounds of {args.calls} calls "
              f"at c={CONCURRENCY}")
    previous = None
    for name, value in results.items():
        if args.instructions:
            step = "" if previous is None else f"  ({(value - previous) / 1e6:+.3f} M)"
            print(f"  {name:32} {value / 1e6:6.3f} M{step}")
        else:
            step = "" if previous is None else f"  ({value - previous:+.0f} us)"
            print(f"  {name:32} {value:6.0f} us{step}")
        previous = value
    print(f"  aiohttp {aiohttp.__version__}, Python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
