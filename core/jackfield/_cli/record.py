"""`jackfield record -m MODEL PROMPT`: one live call, its HTTP exchanges written to a fixture
file (secrets masked) that `jackfield.testing.replay_app()` serves again in a plugin's tests.

The call goes the normal Registry path, pinned to the first provider that serves MODEL and
with retries off, so the file holds what that service said to one request (and the model
listing before it, for a plugin that discovers); a call that fails after the service
answered (a 429, say) is recorded too, then reported.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from jackfield._cli.common import EXIT_USAGE, PROG, CliError, Parser, parse_option, positive

if TYPE_CHECKING:
    from pathlib import Path

    from jackfield._engine.registry import Registry
    from jackfield._errors import JackfieldError

__all__ = ["add_parser", "record", "record_call"]

_NOT_OPTIONS = {"stream": ": use --stream or --no-stream", "timeout": ": use --timeout",
                "n": ": a recording is of one reply"}


def add_parser(command: Callable[..., Parser], run: Callable[[argparse.Namespace], int],
               ) -> None:
    """Add `record` through main.py's command(name, help, run, *examples)."""
    record_ = command(
        "record", "Make one live call and write its HTTP exchange (secrets masked) to a "
        "fixture file that a plugin's tests replay (jackfield.testing.replay_app).",
        run,
        'jackfield record -m openai/gpt-4o-mini --output tests/recordings/chat.json "hi"',
        'jackfield record -m gpt-4o --no-stream -o temperature=0 --output once.json "hi"')
    record_.add_argument("-m", "--model", required=True,
                         help="model name, alias or provider/model (the first provider that "
                              "serves it is called, once)")
    record_.add_argument("-s", "--system", help="a system message sent before the prompt")
    record_.add_argument("-o", "--option", dest="options", action="append", default=[],
                         type=parse_option, metavar="KEY=VALUE",
                         help="a parameter of the call or an option of the provider, as for "
                              "`jackfield chat` (repeatable)")
    record_.add_argument("--stream", action=argparse.BooleanOptionalAction, default=True,
                         help="record a streamed reply (--no-stream: one whole reply)")
    record_.add_argument("--output", metavar="FILE",
                         help="the fixture file to write ('-': standard output; default: "
                              "MODEL.json in the current directory, / as -)")
    record_.add_argument("--force", action="store_true",
                         help="overwrite an existing --output file (kept by default)")
    record_.add_argument("--timeout", type=positive, metavar="SECONDS",
                         help="give up after this many seconds")
    record_.add_argument("prompt", metavar="PROMPT", help="the prompt ('-': standard input)")


def _options(options: Mapping[str, Any]) -> dict[str, Any]:
    for reserved, instead in _NOT_OPTIONS.items():
        if reserved in options:
            raise CliError(f"-o {reserved}=... is not an option of a recording{instead}",
                           EXIT_USAGE)
    return dict(options)


async def record_call(registry: Registry, model: str, messages: Sequence[Mapping[str, str]],
                      *, stream: bool = True, timeout: float | None = None,
                      **options: Any) -> tuple[dict[str, Any], JackfieldError | None]:
    """Make the call through registry with the transport's tap on; return the recording
    (masked, ready to write) and the call's error, if it failed after a reply came.

    :raises JackfieldError: when the call failed before anything was exchanged (an unknown
        model, a bad option, a connection refused): there is nothing to record.
    """
    from jackfield import __version__
    from jackfield._cli.common import check_model
    from jackfield._errors import JackfieldError
    from jackfield._http.fixture_masks import FixtureMasker
    from jackfield._http.recording import capture, fixture

    failure: JackfieldError | None = None
    with capture() as recorder:
        # Inside the capture: the listing a discovering plugin asks for is what a replay of
        # its tests is asked for first.
        await check_model(registry, model, "chat")
        candidate = registry.resolve(model)[0]
        provider, model_id = candidate.provider.name, candidate.model.id
        pinned = f"{provider}/{model_id}"  # one provider: no fallback to another service
        try:
            if stream:
                reply = await registry.complete(pinned, list(messages), stream=True,
                                                timeout=timeout, **options)
                async with reply:
                    async for _chunk in reply:
                        pass
                completion = reply.completion
            else:
                completion = await registry.complete(pinned, list(messages), timeout=timeout,
                                                     **options)
            outcome: dict[str, Any] = {"text": completion.text,
                                       "finish_reason": completion.finish_reason, "error": None}
        except JackfieldError as error:
            if not recorder.exchanges:
                raise
            failure = error
            outcome = {"text": None, "finish_reason": None,
                       "error": {"type": type(error).__name__, "message": str(error)}}
    config = registry.config(provider)
    secrets = {name: config.values[name] for name in sorted(config.secret_names)
               if isinstance(config.values.get(name), str)}
    masker = FixtureMasker.for_provider(secrets, config.headers, config.base_url,
                                        registry.proxy)
    data = fixture(recorder.exchanges, masker, provider=provider, model=model_id,
                   base_url=config.base_url, jackfield=__version__,
                   plugin=_plugin_info(registry, config.plugin or provider),
                   call={"model": pinned, "messages": [dict(m) for m in messages],
                         "stream": stream, "options": options},
                   outcome=outcome)
    return data, failure


def _plugin_info(registry: Registry, provider: str) -> dict[str, str | None]:
    """Return the name, distribution and version of the plugin behind provider."""
    found = [r for r in registry.plugins() if r.provider == provider]
    if not found:
        return {"name": provider, "distribution": None, "version": None}
    record_ = found[0]
    distribution, version = record_.distribution, record_.version
    if distribution is None:  # a module handed to Registry(plugins=[...]): its entry point's
        import importlib.metadata

        for point in importlib.metadata.entry_points(group="jackfield"):
            if point.value.partition(":")[0] == record_.name and point.dist is not None:
                distribution, version = point.dist.name, point.dist.version
                break
    return {"name": record_.name, "distribution": distribution, "version": version}


def _target(output: str | None, model: str) -> Path | None:
    """Return the file to write (None: standard output)."""
    from pathlib import Path  # here: every `jackfield` start would pay pathlib's import

    if output == "-":
        return None
    if output:
        return Path(output)
    return Path("".join(c if c.isalnum() or c in "-_." else "-" for c in model) + ".json")


def _check_writable(path: Path, force: bool) -> None:
    """Refuse, before the call is made, a file that could not be written or would be lost."""
    from pathlib import Path

    if path.is_dir():
        raise CliError(f"--output {path} is a directory: name a file in it", EXIT_USAGE)
    if path.exists() and not force:
        raise CliError(f"{path} exists: pass --force to overwrite it, or another --output",
                       EXIT_USAGE)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise CliError(f"cannot write {path}: the directory {parent} does not exist",
                       EXIT_USAGE)
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise CliError(f"cannot write {path}: permission denied", EXIT_USAGE)


async def record(args: argparse.Namespace) -> int:
    """Run `jackfield record`: the call, then the file, then a summary on standard error."""
    from jackfield._cli.commands import read_prompt
    from jackfield._engine.registry import Registry
    from jackfield._settings.limits import RetryPolicy

    options = _options(dict(args.options))
    path = _target(args.output, args.model)
    if path is not None:
        _check_writable(path, args.force)
    prompt = read_prompt(args.prompt)
    messages = ([{"role": "system", "content": args.system}] if args.system else []) + [
        {"role": "user", "content": prompt}]
    async with Registry.discover(retry=RetryPolicy(attempts=1)) as registry:
        data, failure = await record_call(registry, args.model, messages, stream=args.stream,
                                          timeout=args.timeout, **options)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if path is None:
        sys.stdout.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    shown = "standard output" if path is None else str(path)
    steps = ", ".join(f"{e['request']['method']} {e['request']['path']} -> "
                      f"{e['response']['status']} ({len(e['response']['chunks'])} chunks)"
                      for e in data["exchanges"])
    print(f"{PROG}: recorded {steps} to {shown}", file=sys.stderr)
    if failure is not None:
        raise failure  # recorded, and still a failure: main() prints it as for any call
    return 0
