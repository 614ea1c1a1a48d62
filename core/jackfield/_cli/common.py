"""What every part of the command line shares: exit codes, CliError, argument types, advice.

Both jackfield._cli.main (the parser) and jackfield._cli.commands (the commands that call
providers) import from here, and neither imports the other at import time.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NoReturn

from jackfield._errors import (
    AllProvidersFailedError,
    AuthenticationError,
    InvalidRequestError,
    ProviderError,
    UnknownModelError,
)

if TYPE_CHECKING:
    from jackfield._engine.registry import Registry
    from jackfield._types.specs import Kind

__all__ = ["EXIT_FAILURE", "EXIT_INTERRUPTED", "EXIT_USAGE", "PROG", "CliError", "HelpFormatter",
           "Parser", "check_model", "cli_advice", "cli_message", "exit_status", "parse_option",
           "port", "positive", "warn"]

PROG = "jackfield"
EXIT_FAILURE = 1  # a provider or the system failed
EXIT_USAGE = 2  # the command line or the request is wrong (argparse's own status)
EXIT_INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as shells report it

_FILE = "the file named by JACKFIELD_CONFIG"
# The errors' advice is written for Python callers; on the command line the same knob is a
# flag, an environment variable or a config file entry. Each pattern maps one such phrase.
_CLI_ADVICE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"Raise the timeout \(timeout=\.\.\.\)"), "Raise --timeout SECONDS"),
    (re.compile(r"Timeouts\((\w+)=\.\.\.\)"), rf"\1 under [timeouts] in {_FILE}"),
    (re.compile(r"Limits\((\w+)=\.\.\.\)"), rf"\1 under [limits] in {_FILE}"),
    (re.compile(r"RetryPolicy\((\w+)=\.\.\.\)"), rf"\1 under [retry] in {_FILE}"),
    (re.compile(r"(?:pass )?Registry\(config=\{'(\w+)': \{'(\w+)': \.\.\.\}\}\)"),
     rf"\2 under [providers.\1] in {_FILE}"),
    (re.compile(r"(?:pass )?config=\{'(\w+)': \{'(\w+)': \.\.\.\}\}"),
     rf"\2 under [providers.\1] in {_FILE}"),
    (re.compile(r"Registry\((provider_order|proxy|routes)=[^)]*\)"), rf"\1 in {_FILE}"),
)


class CliError(Exception):
    """A failure reported as one line on standard error, with the exit status to use."""

    def __init__(self, message: str, status: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.status = status


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on standard error."""

    def error(self, message: str) -> NoReturn:
        """Print the problem and where to find help, then exit with status 2."""
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keep the examples' line breaks and show each option's default, unless it has none."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or action.default in (None, False, [], argparse.SUPPRESS):
            return text
        return text + " (default: %(default)s)"


def cli_advice(text: str) -> str:
    """Rewrite Python API advice (`timeout=...`, `Limits(...)`) as command-line advice."""
    for pattern, replacement in _CLI_ADVICE:
        text = pattern.sub(replacement, text)
    return text


def cli_message(error: BaseException) -> str:
    """Return the one line the command line prints for error, its advice made CLI advice."""
    if isinstance(error, AllProvidersFailedError):
        # Rebuilt from its parts: the message it carries quotes each error's Python advice.
        text = (f"every provider for {error.model!r} failed: "
                + "; ".join(cli_message(cause) for cause in error.errors)
                + ". Try again later, or pin one provider as 'provider/model'.")
    elif isinstance(error, ProviderError):
        text = f"{error.summary}. {cli_advice(error.advice)}".rstrip()
        if isinstance(error, AuthenticationError):  # the command line has one more place
            # A plugin's hint may end without a full stop: the next sentence must not run on.
            text += ("" if text.endswith((".", "!", "?")) else ".") + (
                f" Or store it hidden: `{PROG} keys set {error.provider}`.")
    else:
        text = cli_advice(str(error))
    from jackfield._secrets import mask_known  # a call's errors come masked; this is the rest

    return mask_known(" ".join(text.split())) or type(error).__name__


def exit_status(error: BaseException) -> int:
    """Return the exit status for an error: 2 when only the caller can fix it."""
    if isinstance(error, CliError):
        return error.status
    if isinstance(error, InvalidRequestError | UnknownModelError):
        return EXIT_USAGE  # a wrong name, option, setting or prompt
    return EXIT_FAILURE


def warn(warnings: Iterable[str]) -> None:
    """Print each warning as one line on standard error: "jackfield: warning: ..."."""
    for warning in warnings:
        print(f"{PROG}: warning: {' '.join(warning.split())}", file=sys.stderr, flush=True)


def parse_option(text: str) -> tuple[str, Any]:
    """Parse `key=value`; the value is a JSON scalar (int, float, bool, null) or else a string.

    complete()'s own parameters also take JSON lists and objects (`stop=["a", "b"]`,
    `response_format={"type": "json_object"}`); a provider option stays a scalar or text.
    """
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    import json

    def no_constants(name: str) -> Any:
        raise ValueError(name)  # NaN and Infinity stay strings: no API takes them

    try:
        parsed = json.loads(value, parse_constant=no_constants)
    except ValueError:
        return key, value
    if isinstance(parsed, list | dict):
        from jackfield._types.specs import FIRST_CLASS

        # Options are scalars: the provider rejects the text if it is wrong.
        return key, parsed if key in FIRST_CLASS else value
    return key, parsed


def positive(text: str) -> float:
    """Parse a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text!r}")
    return value


def whole(least: int) -> Callable[[str], int]:
    """Return an argparse type: a whole number of at least `least` (--budget, --workers)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"must be {least} or more, got {text!r}")
        return value

    return parse


def port(text: str) -> int:
    """Parse a TCP port number."""
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {text!r}")
    return int(text)


def _check_kind(registry: Registry, model: str, kind: Kind) -> None:
    """Refuse a model of another kind before any call, naming the command that serves it."""
    routes = registry.resolve(model, kind)
    if all(route.model.kind != kind for route in routes):
        other = routes[0].model.kind
        article = "an" if other[0] in "aeiou" else "a"
        command = "embed" if other == "embedding" else other
        raise CliError(f"{model!r} is {article} {other} model: use `{PROG} {command}`",
                       EXIT_USAGE)


async def check_model(registry: Registry, model: str, kind: Kind) -> None:
    """_check_kind(), after asking the services that discover when no list has the name, or
    has it as another kind: a new process has asked none yet, and until then a model may be
    one only its service knows (an allow-listed id of a pass-through provider counts as a
    chat model until its service says what it is). The call would ask them anyway."""
    try:
        fits = any(route.model.kind == kind for route in registry.resolve(model, kind))
    except UnknownModelError:
        fits = False
    if not fits:
        await registry.refresh_models(stale_only=True)
    _check_kind(registry, model, kind)
