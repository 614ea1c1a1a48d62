"""The commands of `jackfield` that call providers or run servers (imported only to run them)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import math
import os
import shlex
import signal
import sys
import time
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, TextIO

from jackfield._cli.common import EXIT_INTERRUPTED, EXIT_USAGE, PROG, CliError, check_model, warn
from jackfield._engine.registry import Registry
from jackfield._settings.config import env_name

if TYPE_CHECKING:
    from aiohttp import web

    from jackfield._cli.chatlog import Call
    from jackfield._engine.completion import CompletionStream

__all__ = ["chat", "emulate", "image", "is_loopback", "read_prompt", "serve"]


def read_prompt(argument: str | None, stdin: TextIO | None = None) -> str:
    """Return the prompt: the argument, or standard input for none or '-'."""
    if argument is not None and argument != "-":
        text = argument
    else:
        stdin = stdin if stdin is not None else sys.stdin
        if stdin is None:
            raise CliError("no prompt: pass it as an argument or on standard input", EXIT_USAGE)
        if stdin.isatty():
            print("(reading the prompt from standard input; end it with Ctrl-D)",
                  file=sys.stderr)
        text = stdin.read().rstrip("\n")
    if not text.strip():
        raise CliError("the prompt is empty: pass it as an argument or on standard input",
                       EXIT_USAGE)
    return text


# -o names the command line sets another way, and what to use instead.
_NOT_OPTIONS = {"stream": "", "timeout": ": use --timeout", "proxy": "",
                "strict": ": use --strict"}
# A tool call needs a caller that runs the tool and sends its result back; the command line
# would print nothing of it.
_NO_TOOLS = ("tools", "tool_choice", "parallel_tool_calls")


def _options(args: argparse.Namespace, kind: str) -> dict[str, Any]:
    """Return the -o options (a provider's own, and complete()'s parameters); refuse the
    keywords the command line sets itself."""
    options = dict(args.options)
    for reserved, instead in _NOT_OPTIONS.items():
        if reserved in options:
            raise CliError(f"-o {reserved}=... is not an option of the call{instead}",
                           EXIT_USAGE)
    for name in _NO_TOOLS:
        if name in options:
            raise CliError(f"-o {name}=...: {PROG} {kind} cannot run tools; call them through "
                           f"the Python API or `{PROG} serve`", EXIT_USAGE)
    if kind == "chat" and options.get("n") not in (None, 1):
        # The command prints one reply: the others would be paid for and never shown.
        raise CliError("-o n=... asks for several replies, and jackfield chat prints one: "
                       "run the command again for another", EXIT_USAGE)
    return options


async def chat(args: argparse.Namespace) -> int:
    """Send the prompt; stream the reply to stdout as it arrives (or print it whole)."""
    if args.prompt is None and not args.json and sys.stdin is not None and sys.stdin.isatty():
        from jackfield._cli.session import run_session  # no prompt on a terminal: a session

        return await run_session(args)
    from jackfield._cli.chatlog import CallLog, registry_secrets

    prompt = read_prompt(args.prompt)
    options = _options(args, "chat")
    with CallLog.open(args) as log:
        model = log.model(args.model)
        messages = log.messages(prompt, args.system)
        async with Registry.discover(strict=args.strict) as registry:
            log.use_secrets(registry_secrets(registry))
            await check_model(registry, model, "chat")
            with log.call(prompt=prompt, system=args.system, model=model,
                          options=options) as call:
                if args.no_stream or args.json:
                    completion = await registry.complete(model, messages, timeout=args.timeout,
                                                         **options)
                else:
                    stream = await registry.complete(model, messages, stream=True,
                                                     timeout=args.timeout, **options)
                    await _stream_out(stream, call)
                    completion = stream.completion
                call.finish(completion)
    if args.json:
        print(json.dumps({"text": completion.text, "reasoning": completion.reasoning,
                          "usage": call.usage, "model": completion.model,
                          "provider": completion.provider, "warnings": call.warnings,
                          "cid": log.cid}, indent=2), flush=True)
        return 0
    if args.no_stream:
        print(completion.text, flush=True)
    warn(call.warnings)  # after the reply, where it is seen: also in the log and in --json
    return 0


async def _stream_out(stream: CompletionStream, call: Call) -> None:
    """Write a stream's text to stdout as it comes, noting each piece in call."""
    out = sys.stdout
    last = "\n"
    try:
        async with stream:  # closes the connection however the loop ends (Ctrl-C too)
            async for chunk in stream:
                if chunk.text:
                    call.provider = call.provider or stream.provider
                    call.add_text(chunk.text)
                    out.write(chunk.text)
                    out.flush()
                    last = chunk.text[-1]
    finally:
        if last != "\n":
            out.write("\n")  # keep the shell prompt off the reply's last line
            out.flush()


@contextlib.asynccontextmanager
async def _progress(what: str) -> AsyncIterator[None]:
    """Show on stderr that we are waiting: a ticking counter on a terminal, else one line."""
    started = time.monotonic()
    err = sys.stderr
    if not err.isatty():
        print(f"{PROG}: {what}...", file=err, flush=True)
        yield
        return

    async def tick() -> None:
        while True:
            err.write(f"\r{what}... {time.monotonic() - started:.1f}s")
            err.flush()
            await asyncio.sleep(0.1)

    ticker = asyncio.create_task(tick())
    try:
        yield
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
        err.write("\r\033[K")  # clear the counter line
        err.flush()


async def image(args: argparse.Namespace) -> int:
    """Generate images; save each and print its path (or its URL when no bytes came)."""
    from jackfield._cli.chatlog import CallLog, registry_secrets
    from jackfield._cli.image_files import all_images, image_target, save_images

    options = _options(args, "image")
    output, directory = image_target(args.output, args.dir, args.force)
    with CallLog.open(args) as log:
        async with Registry.discover(strict=args.strict) as registry:
            log.use_secrets(registry_secrets(registry))
            await check_model(registry, args.model, "image")
            with log.call(prompt=args.prompt, system=None, model=args.model,
                          options=options) as call:
                async with _progress(f"generating with {args.model}"):
                    completion = await registry.complete(args.model, args.prompt,
                                                         timeout=args.timeout, **options)
                call.finish(completion)
                call.images = save_images(completion, args.prompt, output, directory,
                                          force=args.force)
                # An image that came only as a URL is logged as that URL, the reply's text.
                urls = [i.url for i in all_images(completion) if i.data is None and i.url]
                call.pieces = ["\n".join(urls)] if urls else []
    warn(call.warnings)
    return 0


async def _wait_until_stopped(stop: asyncio.Event | None = None) -> bool:
    """Return on SIGTERM or stop set (False) or Ctrl-C (True), so that shutting down is not
    cancelled."""
    stop = stop or asyncio.Event()
    interrupted = False

    def on_interrupt() -> None:
        nonlocal interrupted
        interrupted = True
        stop.set()

    loop = asyncio.get_running_loop()
    # Without signal handlers (Windows, or not the main thread) Ctrl-C still stops us, as a
    # KeyboardInterrupt through asyncio.run.
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, on_interrupt)
    try:
        await stop.wait()
    finally:
        # A second Ctrl-C during the shutdown stops at once (KeyboardInterrupt).
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)
    return interrupted


def _stopped(interrupted: bool) -> int:
    """Say that the server stopped; return 130 after Ctrl-C, as for every command, else 0."""
    print(f"{PROG}: stopped", file=sys.stderr, flush=True)
    return EXIT_INTERRUPTED if interrupted else 0


def is_loopback(host: str) -> bool:
    """Return True if host only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name may resolve anywhere: treat it as reachable


async def _listen(stack: contextlib.AsyncExitStack, app: web.Application, host: str,
                  port: int, server: contextlib.AbstractAsyncContextManager[str] | None = None,
                  ) -> str:
    """Serve app on host:port until the stack closes (with server, if given); return its URL."""
    from jackfield.testing._emulation import serve_app

    try:
        return await stack.enter_async_context(server or serve_app(app, host, port))
    except OSError as error:
        raise CliError(f"cannot listen on {host}:{port}: {error.strerror or error}") from error


async def emulate(args: argparse.Namespace) -> int:
    """Run every installed plugin's emulator; print the exports that point providers at them."""
    from jackfield.testing._emulation import emulator_credentials

    registry = Registry.discover()
    factories = registry.emulators()
    if args.fault:
        from jackfield.testing._emulation import FAULTS_ENV, Faults

        try:
            Faults().set_from_spec(args.fault)  # check the name before starting anything
        except ValueError as error:
            raise CliError(str(error), EXIT_USAGE) from error
        os.environ[FAULTS_ENV] = args.fault  # new_app() reads it, in every plugin's emulator
    if not factories:
        raise CliError("no installed plugin ships an emulator (the jackfield_emulator hook)")
    async with contextlib.AsyncExitStack() as stack:
        print("# jackfield emulators; paste these lines into another shell. Stop with Ctrl-C.")
        for offset, (provider, factory) in enumerate(sorted(factories.items())):
            port = args.port + offset if args.port else 0
            url = await _listen(stack, factory(), args.host, port)
            print(f"export {env_name(provider, 'base_url')}={shlex.quote(url)}")
            spec = next(p for p in registry.providers() if p.name == provider)
            for setting, value in emulator_credentials(spec).items():
                print(f"export {env_name(provider, setting)}={shlex.quote(value)}"
                      f"  # the {provider} emulator accepts any {setting}")
        sys.stdout.flush()
        interrupted = await _wait_until_stopped()
    return _stopped(interrupted)


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
        interrupted = await _wait_until_stopped(stop)
        if worker is None:
            print(f"{PROG}: stopping; calls in flight get {args.grace:g} s", file=sys.stderr,
                  flush=True)
    return 0 if worker is not None else _stopped(interrupted)


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
    code = _stopped(interrupted)
    return code if clean else 1
