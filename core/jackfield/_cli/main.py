"""The `jackfield` command line: list models and plugins, chat, make images, emulate, serve.

Imports stay minimal so that `jackfield models` and `jackfield plugins` start fast and load
no HTTP stack; the commands that call providers import what they need when they run
(jackfield._cli.commands, jackfield._server).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from jackfield import __version__
from jackfield._cli import check, completion, install, scaleout
from jackfield._cli import config as cli_config
from jackfield._cli import defaults as cli_defaults
from jackfield._cli import embed as cli_embed
from jackfield._cli import keys as cli_keys
from jackfield._cli import probe as cli_probe
from jackfield._cli import record as cli_record
from jackfield._cli.capabilities import LEGEND as CAPABILITIES_LEGEND
from jackfield._cli.common import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    PROG,
    CliError,
    HelpFormatter,
    Parser,
    cli_message,
    exit_status,
    parse_option,
    port,
    positive,
)
from jackfield._cli.listing import cmd_models, cmd_plugins
from jackfield._cli.logs import add_parser as add_logs_parser
from jackfield._errors import JackfieldError

__all__ = ["build_parser", "main"]

KINDS = ("chat", "image", "embedding")


def _run_async(name: str, *, runs_until_stopped: bool = False, module: str = "commands",
               ) -> Callable[[argparse.Namespace], int]:
    """Return a runner for an async command of jackfield._cli.<module> (imported lazily)."""
    def run(args: argparse.Namespace) -> int:
        import asyncio
        import importlib

        cli_commands = importlib.import_module(f"jackfield._cli.{module}")
        run_loop: Callable[[Any], int] = asyncio.run
        if getattr(args, "loop", None) is not None:  # serve's --loop (uvloop with speedups)
            from jackfield._cli.loops import runner

            run_loop = runner(args.loop)
        try:
            result: int = run_loop(getattr(cli_commands, name)(args))
        except KeyboardInterrupt:
            if not runs_until_stopped:
                raise
            # Ctrl-C is how a server is meant to stop: by then everything has shut down.
            print(f"{PROG}: stopped", file=sys.stderr)
            return EXIT_INTERRUPTED
        return result

    return run


def non_negative(text: str) -> float:
    """Parse a number of seconds that may be 0 (--grace 0: end the calls in flight at once)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text!r}")
    return value


_OPTION_HELP = ("a parameter of the call (temperature, top_p, max_tokens, stop, seed, ...) or "
                "an option of the provider, e.g. -o temperature=0.2 (repeatable; values are "
                "JSON numbers, true/false/null, or text; the call's parameters also take JSON "
                "lists and objects, e.g. -o 'stop=[\"END\", \"STOP\"]'). A parameter the model "
                "does not honour is not sent: a warning says so")
_STRICT_HELP = ("refuse, before anything is sent, what the model would not be sent (a "
                "parameter it does not honour), instead of a warning after the reply")
_TIMEOUT_HELP = ("give up after this many seconds (default: total under [timeouts] in the file "
                 "named by JACKFIELD_CONFIG, else 600)")


_NO_LOG_HELP = ("do not log this call (`jackfield logs off` stops logging for good; "
                "`jackfield logs path` shows where the log is)")


def build_parser() -> Parser:
    """Return the parser of every command; each command's help ends with examples."""
    common = Parser(add_help=False)
    # SUPPRESS: a subcommand's default must not undo `jackfield --debug <command>`.
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the traceback of a failure")
    parser = Parser(prog=PROG, parents=[common], formatter_class=HelpFormatter,
                    description="One command line over every installed chat, image and "
                                "embedding provider plugin.",
                    epilog="examples:\n  jackfield models --kind image\n"
                           "  jackfield chat -m gpt-4o \"hello\"\n"
                           "  jackfield emulate   # then paste its exports into another shell")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True,
                                     parser_class=Parser)

    def command(name: str, help_text: str, run: Callable[[argparse.Namespace], int],
                *examples: str) -> Parser:
        sub: Parser = commands.add_parser(
            name, help=help_text, description=help_text, parents=[common],
            formatter_class=HelpFormatter,
            epilog="examples:\n" + "\n".join(f"  {example}" for example in examples))
        sub.set_defaults(run=run)
        return sub

    models = command("models", "List the models of every installed provider.", cmd_models,
                     "jackfield models --kind image",
                     "jackfield models --provider amigochat --json")
    models.description = f"{models.description}\n\n{CAPABILITIES_LEGEND}"
    models.add_argument("--provider", metavar="P", help="only this provider's models")
    models.add_argument("--kind", choices=KINDS,
                        help="only chat, only image or only embedding models")
    models.add_argument("--json", action="store_true", help="print JSON instead of a table")
    models.add_argument("--refresh", action="store_true",
                        help="ask the plugins, and the services that list their models, again "
                             "instead of the cache (kept for [discovery] ttl, 300 s by default)")
    cli_defaults.add_to_models(models, cmd_models)

    plugins = command("plugins", "List the installed plugins, their hooks and load errors.",
                      cmd_plugins, "jackfield plugins",
                      "JACKFIELD_LOAD_PLUGINS=jackfield-aichats jackfield plugins --json")
    plugins.add_argument("--json", action="store_true", help="print JSON instead of a table")

    cli_keys.add_parser(command)
    cli_config.add_parser(command)

    chat = command("chat", "Send a prompt to a chat model; the reply streams to stdout.",
                   cli_defaults.with_default("chat", _run_async("chat")),
                   'echo "hi" | jackfield chat -m gpt-4o -s "be brief" -o temperature=0.2',
                   'jackfield chat -m gpt-4 --strict -o seed=7 "hi"   # refused: not honoured',
                   'jackfield chat -m aichats/gpt-4 --no-stream --timeout 30 "hello"',
                   'jackfield chat -c "and in French?"   # continue the last conversation',
                   'jackfield chat -m gpt-4o --json "hi"',
                   "jackfield chat -m gpt-4o   # on a terminal: a session; /help inside")
    chat.add_argument("-m", "--model", help="model name, alias or provider/model (default with "
                                            "-c or --cid: the conversation's model; else "
                                            "`jackfield models default`)")
    chat.add_argument("-s", "--system", help="a system message sent before the prompt")
    chat.add_argument("-o", "--option", dest="options", action="append", default=[],
                      type=parse_option, metavar="KEY=VALUE", help=_OPTION_HELP)
    chat.add_argument("--no-stream", action="store_true", help="print the reply once it is whole")
    chat.add_argument("--strict", action="store_true", help=_STRICT_HELP)
    chat.add_argument("--timeout", type=positive, metavar="SECONDS", help=_TIMEOUT_HELP)
    chat.add_argument("--json", action="store_true",
                      help="print one JSON object (text, reasoning, usage, model, provider, "
                           "warnings, cid) "
                           "once the reply is whole")
    conversation = chat.add_mutually_exclusive_group()
    conversation.add_argument("-c", "--continue", dest="continue_", action="store_true",
                              help="continue the last conversation (its messages are sent "
                                   "again)")
    conversation.add_argument("--cid", metavar="ID", help="continue conversation ID (see "
                                                          "`jackfield logs`)")
    chat.add_argument("--no-log", action="store_true", help=_NO_LOG_HELP)
    chat.add_argument("prompt", nargs="?", metavar="PROMPT",
                      help="the prompt (default, or '-': read standard input)")

    image = command("image", "Generate images from a prompt and save them.",
                    cli_defaults.with_default("image", _run_async("image")),
                    'jackfield image -m dalle --dir out/ "a lighthouse at dusk"',
                    'jackfield image -m amigochat/flux-realism --output cat.png "a cat"')
    image.add_argument("-m", "--model", help="image model name or provider/model (default: "
                       "`jackfield models default --kind image`)")
    # -o means a provider option in every command; the output file has only a long name.
    image.add_argument("-o", "--option", dest="options", action="append", default=[],
                       type=parse_option, metavar="KEY=VALUE", help=_OPTION_HELP)
    target = image.add_mutually_exclusive_group()
    target.add_argument("--output", metavar="FILE",
                        help="save to FILE (more images: FILE-2, FILE-3, ...); FILE/ or an "
                             "existing directory: save into it")
    target.add_argument("--dir", metavar="DIR",
                        help="save into DIR, named after the prompt (default: current directory)")
    image.add_argument("--force", action="store_true",
                       help="overwrite an existing --output file (kept by default)")
    image.add_argument("--strict", action="store_true", help=_STRICT_HELP)
    image.add_argument("--timeout", type=positive, metavar="SECONDS", help=_TIMEOUT_HELP)
    image.add_argument("--no-log", action="store_true", help=_NO_LOG_HELP)
    image.add_argument("prompt", metavar="PROMPT", help="what to draw")

    cli_embed.add_parser(command, _run_async("embed", module="embed"))
    cli_probe.add_parser(command, _run_async("probe", module="probe"))
    cli_record.add_parser(command, _run_async("record", module="record"))

    add_logs_parser(command)

    emulate = command("emulate", "Run every installed plugin's protocol emulator on loopback "
                      "and print the settings that point the providers at them.",
                      _run_async("emulate", runs_until_stopped=True),
                      "jackfield emulate --port 8001", "jackfield emulate --fault rate_limit:2")
    emulate.add_argument("--host", default="127.0.0.1", help="address to listen on")
    emulate.add_argument("--port", type=port, default=0, metavar="N",
                         help="first port (the next emulator gets N+1, ...); default: any free")
    emulate.add_argument("--fault", metavar="NAME[:N]",
                         help="inject a failure into every emulator (rate_limit, unavailable, "
                              "drop_mid_stream, ...; :N for the next N requests only); "
                              "see docs/faults.md")

    serve = command("serve", "Serve an OpenAI-compatible API over every installed provider.",
                    _run_async("serve", runs_until_stopped=True, module="serve"),
                    "jackfield serve --port 8080",
                    "JACKFIELD_API_KEY=$(openssl rand -hex 32) jackfield serve --host 0.0.0.0")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (other than loopback needs an API key)")
    serve.add_argument("--port", type=port, default=8080, help="port to listen on")
    serve.add_argument("--api-key", metavar="KEY",
                       help="require `Authorization: Bearer KEY` (default: $JACKFIELD_API_KEY; "
                            "the variable keeps the key out of the process list)")
    serve.add_argument("--max-body-bytes", type=int, default=32 * 1024 * 1024, metavar="N",
                       help="largest request body accepted; images come in it as data: URLs "
                            "(default: 33554432, 32 MiB)")
    serve.add_argument("--strict", action="store_true",
                       help="refuse (400) what a call asks for but the model would not be "
                            "sent, instead of answering with an X-Jackfield-Warnings header")
    serve.add_argument("--prompted", action="append", default=[], metavar="[MODEL=]WHAT",
                       help="for models without native support, describe tools and/or JSON "
                            "schemas in the prompt and parse the reply: WHAT is tools, json "
                            "or tools,json; MODEL= limits it to one model or provider "
                            "(repeatable; default: off)")
    serve.add_argument("--header-timeout", type=positive, default=30.0, metavar="SECONDS",
                       help="close a connection whose request headers have not all come in "
                            "this time, or that stays idle this long (default: 30)")
    serve.add_argument("--body-timeout", type=positive, default=30.0, metavar="SECONDS",
                       help="answer 408 when a request body has not all come in this time "
                            "(default: 30)")
    serve.add_argument("--max-connections", type=int, default=1024, metavar="N",
                       help="open client connections at most; beyond, the oldest idle one is "
                            "closed, or the newcomer gets a 503 (default: 1024)")
    serve.add_argument("--write-timeout", type=positive, default=30.0, metavar="SECONDS",
                       help="a streaming client that reads nothing this long is dropped and its "
                            "upstream call closed (default: 30)")
    serve.add_argument("--grace", type=non_negative, default=10.0, metavar="SECONDS",
                       help="on Ctrl-C or SIGTERM, let calls in flight finish this long; then "
                            "they end with an error (default: 10)")
    serve.add_argument("--allowed-host", dest="allowed_hosts", action="append", default=[],
                       metavar="NAME",
                       help="also answer requests whose Host is NAME (repeatable; '*': any); "
                            "loopback and the listening address always work (default: "
                            "$JACKFIELD_ALLOWED_HOSTS, comma-separated)")
    serve.add_argument("--cors-origin", dest="cors_origins", action="append", default=[],
                       metavar="ORIGIN",
                       help="let web pages from ORIGIN (e.g. https://app.example) call the API "
                            "(repeatable; default: none, $JACKFIELD_CORS_ORIGINS)")
    serve.add_argument("--timeout", type=positive, metavar="SECONDS",
                       help="give up on a chat call after this many seconds, retries and "
                            "fallbacks included (default: the [timeouts] of the config file)")
    serve.add_argument("--metrics", action="store_true",
                       help="serve Prometheus metrics at /metrics (behind the API key like "
                            "the API; needs pip install 'jackfield[metrics]')")
    serve.add_argument("--loop", choices=("auto", "asyncio", "uvloop"), default="auto",
                       help="the event loop: uvloop is faster and comes with pip install "
                            "'jackfield[speedups]'; auto (the default) uses it when installed")
    serve.add_argument("--no-access-log", dest="access_log", action="store_false",
                       help="do not print a line per request on stderr (method, route, model, "
                            "provider, status, latency, tokens; never keys or prompts)")
    cli_probe.add_serve_flags(serve)
    scaleout.add_serve_flags(serve)
    scaleout.add_parser(command)
    install.add_parsers(command)
    check.add_parser(command)
    completion.add_parser(command)
    return parser


def _silence_stdout() -> None:
    """Point stdout at /dev/null after a closed pipe, so the exit flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    try:
        args = build_parser().parse_args(install.shield(argv))
        args.argv = list(sys.argv[1:] if argv is None else argv)  # serve --workers re-runs it
    except SystemExit:  # --help or --version has printed: a closed pipe is no failure either
        _flush_stdout()
        raise
    debug = getattr(args, "debug", False)
    try:
        status: int = args.run(args)
        sys.stdout.flush()  # surface a closed pipe here rather than at interpreter exit
        return status
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()  # `jackfield models | head`: the reader has all it wanted
        return 0
    except (CliError, JackfieldError, OSError) as error:
        if debug:
            import traceback

            traceback.print_exc()
        print(f"{PROG}: {cli_message(error)}", file=sys.stderr)
        return exit_status(error)
    # Deliberately broad: a bug must still end in one line and a non-zero status; --debug
    # shows its traceback.
    except Exception as error:
        if debug:
            raise
        print(f"{PROG}: unexpected {type(error).__name__}: {cli_message(error)} "
              "(run with --debug for the traceback)", file=sys.stderr)
        return EXIT_FAILURE

