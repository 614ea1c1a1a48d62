"""`jackfield serve`: one process, or --workers N supervised ones, with the server's
settings read from flags, the environment and the config file (imported only to run it)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import sys
from collections.abc import Iterator

from jackfield._cli.commands import _listen, is_loopback, stopped, wait_until_stopped
from jackfield._cli.common import EXIT_USAGE, PROG, CliError

__all__ = ["serve"]


def _print_access_log() -> None:
    """Send the server's access lines (logger jackfield.access, INFO) to stderr."""
    import logging

    from jackfield._server.access_log import ACCESS_LOGGER

    logger = logging.getLogger(ACCESS_LOGGER)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # printed once, whatever else configures the root logger


async def serve(args: argparse.Namespace) -> int:
    """Serve the OpenAI-compatible API until Ctrl-C or SIGTERM."""
    from jackfield._cli.scaleout import serve_shared

    api_key = args.api_key or os.environ.get("JACKFIELD_API_KEY") or None
    shared = serve_shared(args)
    if api_key is None and not shared.keys and not is_loopback(args.host):
        raise CliError(
            f"refusing to serve on {args.host} without an API key: anyone who can reach it "
            "could use your providers. Set JACKFIELD_API_KEY=<a long random secret> (or pass "
            "--api-key), or listen on 127.0.0.1.", EXIT_USAGE)
    if args.max_body_bytes < 1 or args.max_connections < 1:
        raise CliError("--max-body-bytes and --max-connections must be positive", EXIT_USAGE)
    timeouts = (args.header_timeout, args.body_timeout, args.write_timeout, args.grace)
    if not all(math.isfinite(t) for t in timeouts):
        raise CliError("--header-timeout, --body-timeout, --write-timeout and --grace must be "
                       "finite", EXIT_USAGE)
    from jackfield._server import create_app
    from jackfield._server.guard import ALLOWED_HOSTS_ENV, CORS_ORIGINS_ENV, split_names
    from jackfield._server.listen import serving
    from jackfield._server.serve_flags import prompted_flags
    from jackfield._server.workers import worker_from_env

    try:
        prompted = prompted_flags(args.prompted)
    except ValueError as error:
        raise CliError(str(error), EXIT_USAGE) from None
    allowed_hosts = [*args.allowed_hosts, *split_names(os.environ.get(ALLOWED_HOSTS_ENV, ""))]
    cors_origins = [*args.cors_origins, *split_names(os.environ.get(CORS_ORIGINS_ENV, ""))]
    guard = "API key required" if api_key or shared.keys else "no API key, loopback only"
    worker = worker_from_env()
    if args.workers > 1 and worker is None:
        return await _supervise(args, guard)
    app = create_app(api_key=api_key, max_body_bytes=args.max_body_bytes,
                     allowed_hosts=[args.host, *allowed_hosts], cors_origins=cors_origins,
                     body_timeout=args.body_timeout, write_timeout=args.write_timeout,
                     grace=args.grace, strict=args.strict, prompted=prompted,
                     call_timeout=args.timeout, metrics=args.metrics,
                     server_keys=shared.keys, redis_url=shared.redis_url,
                     redis_prefix=shared.redis_prefix)
    if args.access_log:
        _print_access_log()
    if args.probe_every is not None:
        from jackfield._server.probing import add_probing

        add_probing(app, args.probe_every, budget=args.probe_budget, rate=args.probe_rate)
    server = serving(app, args.host, args.port, header_timeout=args.header_timeout,
                     max_connections=args.max_connections,
                     sock=worker.sock if worker else None)
    async with contextlib.AsyncExitStack() as stack:
        url = await _listen(stack, app, args.host, args.port, server)
        stop = asyncio.Event()
        if worker is not None:  # the supervisor prints for all (jackfield._server.workers)
            worker.ready()
            worker.watch_parent(stop)
        else:
            print(f"{PROG}: serving the OpenAI API at {url}/v1 ({guard}); stop with Ctrl-C",
                  flush=True)
            if args.probe_every is not None:
                print(f"{PROG}: probing every {args.probe_every:g} s, at most "
                      f"{args.probe_budget} requests a round; the outcomes are in "
                      f"{url}/health", flush=True)
        interrupted = await wait_until_stopped(stop)
        if worker is None:
            print(f"{PROG}: stopping; calls in flight get {args.grace:g} s", file=sys.stderr,
                  flush=True)
    return 0 if worker is not None else stopped(interrupted)


@contextlib.contextmanager
def _shared_metrics(wanted: bool) -> Iterator[None]:
    """With --metrics, give the workers one metrics directory (prometheus-client's
    multiprocess mode: any worker's /metrics answers for all), made before they start."""
    if not wanted:
        yield
        return
    import importlib.util
    import shutil
    import tempfile

    from jackfield._server.metrics import prepare_multiprocess

    if importlib.util.find_spec("prometheus_client") is None:  # found, not imported: see below
        raise CliError("--metrics needs the prometheus-client library: pip install "
                       "'jackfield[metrics]'", EXIT_USAGE)

    directory = prepare_multiprocess(tempfile.mkdtemp(prefix="jackfield-metrics-"))
    try:
        yield
    finally:
        shutil.rmtree(directory)


async def _supervise(args: argparse.Namespace, guard: str) -> int:
    """Run --workers processes on one socket (jackfield._server.workers) until stopped."""
    from jackfield._server.workers import bind, supervise

    if os.name == "nt":  # inherited sockets and process groups: POSIX only
        raise CliError("--workers needs Linux, macOS or another POSIX system; run one "
                       "`jackfield serve` per port behind a load balancer instead", EXIT_USAGE)
    try:
        sock = bind(args.host, args.port)
    except OSError as error:
        raise CliError(f"cannot listen on {args.host}:{args.port}: "
                       f"{error.strerror or error}") from error
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    with _shared_metrics(args.metrics):
        interrupted, clean = await supervise(
            sock, args.argv, args.workers, args.grace,
            f"{PROG}: serving the OpenAI API at http://{shown}:{port}/v1 ({guard}; "
            f"{args.workers} workers); stop with Ctrl-C")
    code = stopped(interrupted)
    return code if clean else 1
