"""What each feature of a proxied call costs `jackfield serve`, in instructions: serve with it
patched out, beside the floor proxy.

The profile behind serve's missed targets of issue 16 (CPU per proxied call, added latency,
time to first token). Each row is callgrind's count of `jackfield serve` answering N short
non-streamed chat calls from a native client at c=16 (a run of N calls minus a run of none,
bench/instructions.py's count_server), with one feature patched out of the server process;
"every feature above off" patches out all of them. The floor proxy (bench/peers/
floor_proxy.py) is the least an aiohttp proxy of this call does; what still stands between it
and serve with every feature off is the proxying itself: the OpenAI call's parsing and
checks into the library's call, the library's plugin boundary, typed events, retry loop and
Completion, and the reply's OpenAI object. The patches break what they remove (a foreign
Host would be served, a bad body would crash the handler): this is a diagnostic that reaches
into private names, never a mode of jackfield.
Usage: python bench/serve_ablation.py [--calls 400]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from harness.callgrind import per_call_of
from instructions import FLOOR, count_serve, count_server, serve_env

CALLS = 400
KEY = "bench-key"  # what instructions.py's LOADER sends
FULL, ALL = "jackfield serve, every feature on", "every feature above off"


def _drop(app: Any, middlewares: set[str], hooks: frozenset[str] = frozenset()) -> None:
    """Take the named middlewares and response hooks out of the app create_app() made."""
    for middleware in [m for m in app.middlewares if m.__name__ in middlewares]:
        app.middlewares.remove(middleware)
    for hook in [h for h in app.on_response_prepare if h.__name__ in hooks]:
        app.on_response_prepare.remove(hook)


def no_access_log(app: Any) -> None:
    """The access log: its middleware (status, timing) and the line written per request."""
    _drop(app, {"access_log"})


def no_auth(app: Any) -> None:
    """The API key check (a constant-time compare of the bearer key)."""
    _drop(app, {"check_api_key"})


def no_guard(app: Any) -> None:
    """The Host and Origin guard, and the CORS headers of each response."""
    _drop(app, {"guard"}, frozenset({"add_cors_headers"}))


def no_drain(app: Any) -> None:
    """The in-flight tracking that lets a shutdown answer the calls it interrupts."""
    _drop(app, {"track"})


def no_error_shapes(app: Any) -> None:
    """The error middleware (typed errors into the route's error shape) and its hook."""
    _drop(app, {"error_middleware"}, frozenset({"remember_response"}))


def no_body_checks(app: Any) -> None:
    """The body's checks: content type and encoding, the read timeout, NaN refused, depth."""
    from aiohttp import web

    import jackfield._server.app as server_app

    async def read_json(request: web.Request) -> Any:
        return json.loads(await request.read())

    server_app.read_json = read_json  # type: ignore[attr-defined]


def no_library_features(app: Any) -> None:
    """The library's features of a call, bench/ablation.py's seven (read-idle timer, reply
    limit, fresh ids, message and option checks, the discovery check, health)."""
    from ablation import FEATURES

    from jackfield._server.app import REGISTRY_KEY

    for patch in FEATURES.values():
        patch(app[REGISTRY_KEY])


FEATURES: dict[str, Callable[[Any], None]] = {
    "access log (middleware and line)": no_access_log,
    "API key check": no_auth,
    "Host and Origin guard, CORS headers": no_guard,
    "in-flight tracking for a graceful shutdown": no_drain,
    "error middleware (typed errors into the route's shape)": no_error_shapes,
    "body checks (type, encoding, timeout, NaN, depth)": no_body_checks,
    "the library's features (bench/ablation.py)": no_library_features,
}
LABELS = (FLOOR, FULL, *FEATURES, ALL)


def serve_patched(label: str, argv: list[str]) -> None:
    """Run `jackfield serve argv` with label's features patched out of the app it makes."""
    import jackfield._server as server

    chosen = list(FEATURES.values()) if label == ALL else [FEATURES[label]] if (
        label in FEATURES) else []
    create_app = server.create_app

    def patched(*args: Any, **kwargs: Any) -> Any:
        app = create_app(*args, **kwargs)
        for patch in chosen:
            patch(app)
        return app

    server.create_app = patched  # serve imports it when it runs
    from jackfield._cli.main import main

    sys.argv = ["jackfield", "serve", *argv]
    main()


def counts(url: str, calls: int) -> dict[str, float]:
    """Return label -> instructions per proxied call, two counted servers at a time."""
    env = {"JACKFIELD_API_KEY": KEY}

    def run(label: str, n: int, workdir: str) -> int:
        if label == FLOOR:
            return count_serve(sys.executable, url, n, workdir, FLOOR)

        def command(port: int) -> list[str]:
            return [sys.executable, __file__, "--serve-patched", label, "--",
                    "--host", "127.0.0.1", "--port", str(port)]

        return count_server(command, serve_env(url, env), n, workdir, label)

    return per_call_of(run, LABELS, calls)


@attrs.frozen
class ServeAblation:
    """Instructions per proxied call: the floor proxy, serve, serve without the listed
    features, and each feature's cost (serve minus serve without it)."""

    calls: int
    floor: float
    serve: float
    without_features: float
    features: dict[str, float]


def serve_ablation(calls: int) -> dict[str, Any]:
    """Start the emulator; return what each feature of serve costs per call, and the rest."""
    bench = Path(__file__).resolve().parent
    server = subprocess.Popen([sys.executable, str(bench / "emulator_server.py")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        found = counts(json.loads(server.stdout.readline())["url"], calls)
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(10)
    full = found[FULL]
    return attrs.asdict(ServeAblation(calls, found[FLOOR], full, found[ALL], {
        name: full - found[name] for name in FEATURES}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=CALLS)
    parser.add_argument("--serve-patched", choices=LABELS, help=argparse.SUPPRESS)
    parser.add_argument("serve_args", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_patched is not None:
        serve_patched(args.serve_patched, args.serve_args)
        return
    print(json.dumps(serve_ablation(args.calls), indent=1))


if __name__ == "__main__":
    main()
