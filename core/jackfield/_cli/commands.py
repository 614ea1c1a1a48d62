"""The commands of `jackfield` that call providers or run servers (imported only to run them)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import os
import shlex
import signal
import sys
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, TextIO

from jackfield._cli.common import EXIT_INTERRUPTED, EXIT_USAGE, PROG, CliError, check_model, warn
from jackfield._engine.registry import Registry
from jackfield._settings.config import env_name

if TYPE_CHECKING:
    from aiohttp import web

    from jackfield._cli.chatlog import Call
    from jackfield._engine.completion import CompletionStream

__all__ = ["chat", "emulate", "image", "is_loopback", "read_prompt", "stopped",
           "wait_until_stopped"]


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


async def wait_until_stopped(stop: asyncio.Event | None = None) -> bool:
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


def stopped(interrupted: bool) -> int:
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
        interrupted = await wait_until_stopped()
    return stopped(interrupted)
