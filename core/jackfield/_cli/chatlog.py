"""Logging a one-shot `jackfield chat` or `jackfield image` call into the log store.

    with CallLog.open(args) as log:            # --no-log, -c, --cid, `jackfield logs off`
        model = log.model(args.model)          # -m, else the continued conversation's model
        messages = log.messages(prompt, args.system)
        with log.call(prompt=..., system=..., model=model, options=...) as call:
            call.add_text(piece)               # as a stream delivers it
            call.finish(completion)            # usage, provider, finish reason
        # on leaving call(): one row, whether it succeeded, failed or was interrupted
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import attrs

from jackfield._cli.common import EXIT_USAGE, CliError, cli_message
from jackfield._cli.logstore import LogStore, conversation_messages, log_path, logging_enabled

if TYPE_CHECKING:
    from jackfield._engine.completion import Completion
    from jackfield._engine.registry import Registry

__all__ = ["Call", "CallLog", "registry_secrets"]

_FINE_FINISHES = (None, "stop", "end_turn", "eos")


def registry_secrets(registry: Registry) -> list[str]:
    """Return every secret setting value (and URL password) of the registry's providers."""
    from jackfield._secrets import config_secrets

    return [secret for spec in registry.providers()
            for secret in config_secrets(registry.config(spec.name))]


@attrs.define
class Call:
    """What one call has produced so far; CallLog.call() logs it when the call ends."""

    prompt: str
    system: str | None
    model: str
    options: Mapping[str, Any]
    provider: str | None = None
    pieces: list[str] = attrs.Factory(list)
    usage: dict[str, int | None] | None = None
    warnings: list[str] = attrs.Factory(list)
    images: list[Path] = attrs.Factory(list)

    def add_text(self, text: str) -> None:
        """Note a piece of the reply as it is delivered."""
        self.pieces.append(text)

    def finish(self, completion: Completion) -> None:
        """Note the whole completion: its provider, usage, text (if not streamed), warnings and
        finish."""
        self.provider = completion.provider or self.provider
        if not self.pieces and completion.text:
            self.pieces.append(completion.text)
        if completion.usage is not None:
            self.usage = attrs.asdict(completion.usage)
        # What the call accepted but did not send (a model that does not honour temperature).
        self.warnings.extend(str(warning) for warning in completion.warnings)
        if completion.finish_reason not in _FINE_FINISHES:
            self.warnings.append(f"the reply ended early: finish reason "
                                 f"{completion.finish_reason!r}")

    @property
    def reply(self) -> str | None:
        """Return the reply text delivered so far (None if there was none)."""
        return "".join(self.pieces) or None


class CallLog:
    """The log of one command's calls: where it goes, which conversation, whether to write."""

    def __init__(self, store: LogStore | None, cid: str | None, *, writable: bool) -> None:
        self.store = store
        self.cid = cid
        self.writable = writable
        self.secrets: list[str] = []  # set once the registry's settings are known

    @classmethod
    def open(cls, args: argparse.Namespace, path: Path | None = None) -> CallLog:
        """Open the log for args: -c / --cid pick the conversation; --no-log or `jackfield
        logs off` mean nothing is written (a conversation may still be continued)."""
        path = log_path() if path is None else path
        writable = not getattr(args, "no_log", False) and logging_enabled(path)
        cid: str | None = getattr(args, "cid", None)
        continuing = cid is not None or getattr(args, "continue_", False)
        if not writable and not continuing:
            return cls(None, None, writable=False)
        if not writable and not path.exists():
            raise CliError(f"no conversation to continue: {path} does not exist (logging "
                           "is off)", EXIT_USAGE)
        store = LogStore.open(path)
        try:
            if cid is not None:
                store.conversation_model(cid)  # an unknown id fails here, before any call
            elif continuing:
                cid = store.last_conversation()
                if cid is None:
                    raise CliError(f"no conversation to continue in {path}: start one "
                                   "without -c", EXIT_USAGE)
        except BaseException:
            store.close()
            raise
        return cls(store, cid, writable=writable)

    def __enter__(self) -> CallLog:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self.store is not None:
            self.store.close()

    def model(self, given: str | None) -> str:
        """Return the model to call: the one given, else the continued conversation's."""
        if given:
            return given
        if self.store is not None and self.cid is not None:
            return self.store.conversation_model(self.cid)
        raise CliError("no model: pass -m MODEL (or -c to continue the last conversation "
                       "with its model)", EXIT_USAGE)

    def messages(self, prompt: str, system: str | None) -> list[dict[str, str]]:
        """Return the conversation so far (if continuing) with prompt appended."""
        history = (self.store.history(self.cid)
                   if self.store is not None and self.cid is not None else [])
        return conversation_messages(history, prompt, system)

    def use_secrets(self, secrets: Iterable[str]) -> None:
        """Mask these values too (the providers' settings) in what is logged."""
        self.secrets.extend(secrets)

    @contextlib.contextmanager
    def call(self, *, prompt: str, system: str | None, model: str,
             options: Mapping[str, Any]) -> Iterator[Call]:
        """Time a call; log it when it ends, with the error (masked) if it failed."""
        if self.writable and self.store is not None and self.cid is None:
            self.cid = self.store.new_conversation(model)  # known to --json before the end
        call = Call(prompt, system, model, options)
        started = time.monotonic()
        error: str | None = None
        try:
            yield call
        except (KeyboardInterrupt, GeneratorExit):
            error = "interrupted"
            raise
        except asyncio.CancelledError:  # Ctrl-C, as asyncio.run delivers it to the task
            error = "interrupted"
            raise
        except BaseException as failure:
            error = cli_message(failure)
            call.provider = call.provider or getattr(failure, "provider", None)
            raise
        finally:
            self._write(call, (time.monotonic() - started) * 1000, error)

    def _write(self, call: Call, duration_ms: float, error: str | None) -> None:
        if not self.writable or self.store is None or self.cid is None:
            return
        self.store.record(self.cid, prompt=call.prompt, system=call.system, model=call.model,
                          provider=call.provider, options=call.options, reply=call.reply,
                          usage=call.usage, duration_ms=duration_ms, warnings=call.warnings,
                          error=error, images=call.images, secrets=self.secrets)
