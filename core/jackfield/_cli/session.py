"""`jackfield chat` on a terminal with no prompt: a session of turns, one conversation.

The conversation lives in memory and is sent back whole each turn; -c / --cid start it from
a logged one, and each turn is logged as one-shot calls are (unless --no-log). Ctrl-C cancels
the reply in flight (its stream's `async with` exits, which closes the upstream connection)
and the session goes on; Ctrl-D or /exit leaves it. Imported only when a session starts: it
pulls in prompt_toolkit.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Coroutine, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import attrs

from jackfield._cli.chatlog import CallLog, registry_secrets
from jackfield._cli.commands import _options
from jackfield._cli.common import PROG, CliError, check_model, cli_message, warn
from jackfield._cli.logstore import LOGS_ENV, log_path
from jackfield._engine.registry import Registry
from jackfield._errors import JackfieldError

if TYPE_CHECKING:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import History

    from jackfield._engine.completion import Completion

__all__ = ["HELP", "Conversation", "history_path", "run_session", "use_colour"]

T = TypeVar("T")
HELP = """\
Enter sends the line; end a line with \\ to go on with the next one.
  /multi (or !multi)  type several lines; a line with !end (or /end) sends them
  /model NAME         switch the model for the next turns (/model alone: show it)
  /system TEXT        set the system message (/system alone: clear it)
  /help               this text
  /exit               leave (or Ctrl-D); Ctrl-C cancels the reply in flight"""
_MULTI = ("/multi", "!multi")
_END = ("!end", "/end")


def use_colour(stream: TextIO) -> bool:
    """Colour only on a terminal, and never with NO_COLOR set to anything (no-color.org)."""
    return stream.isatty() and not os.environ.get("NO_COLOR")


def history_path() -> Path:
    """Return the line-editing history file: beside the log database (see JACKFIELD_LOGS)."""
    return log_path().parent / "chat-history"


def _history(enabled: bool) -> History:
    """A private history file (prompts may hold anything), or memory only when not logging."""
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    if not enabled:
        return InMemoryHistory()
    path = history_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.close(os.open(path, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600))
    except OSError as error:
        raise CliError(f"cannot keep the chat history in {path}: {error.strerror or error}; "
                       f"set {LOGS_ENV} to a writable place, or pass --no-log") from error
    return FileHistory(str(path))


@attrs.define
class Conversation:
    """The model, the system message and the turns so far: what each turn sends."""

    model: str
    system: str | None = None
    turns: list[dict[str, str]] = attrs.field(factory=list)

    @classmethod
    def resume(cls, model: str, system: str | None,
               history: Sequence[Mapping[str, str]]) -> Conversation:
        """Start from a logged conversation's messages; a -s system message replaces its own."""
        logged = next((m["content"] for m in history if m["role"] == "system"), None)
        turns = [dict(m) for m in history if m["role"] != "system"]
        return cls(model, system or logged, turns)

    def messages(self, prompt: str) -> list[dict[str, str]]:
        """Return the messages that ask for the reply to prompt."""
        system = [{"role": "system", "content": self.system}] if self.system else []
        return [*system, *self.turns, {"role": "user", "content": prompt}]

    def add(self, prompt: str, reply: str) -> None:
        """Remember a finished turn, so the next ones see it."""
        self.turns += [{"role": "user", "content": prompt},
                       {"role": "assistant", "content": reply}]


async def interruptible(work: Coroutine[Any, Any, T]) -> tuple[bool, T | None]:
    """Run work; Ctrl-C cancels it. Return (True, None) if it was cancelled, else its result.

    The terminal is in cooked mode while a reply streams, so Ctrl-C arrives as SIGINT.
    """
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    previous = signal.getsignal(signal.SIGINT)
    try:
        loop.add_signal_handler(signal.SIGINT, task.cancel)
        installed = True
    except (NotImplementedError, RuntimeError):
        installed = False  # Windows: Ctrl-C ends the session as a KeyboardInterrupt
    try:
        await asyncio.wait([task])
    finally:
        if installed:
            loop.remove_signal_handler(signal.SIGINT)
            # Back to asyncio.run's own handler, not the default (None: not set from Python).
            signal.signal(signal.SIGINT, signal.default_int_handler if previous is None
                          else previous)
        if not task.done():
            task.cancel()
            await asyncio.wait([task])
    if task.cancelled():
        return True, None
    return False, task.result()


class Session:
    """The prompt loop: read a message or a command, answer it, until Ctrl-D or /exit."""

    def __init__(self, args: argparse.Namespace, registry: Registry,
                 prompts: PromptSession[str], conversation: Conversation,
                 log: CallLog) -> None:
        self.args = args
        self.registry = registry
        self.prompts = prompts
        self.conversation = conversation
        self.log = log
        self.options = _options(args, "chat")
        self.out = sys.stdout  # replies only, so `> file` keeps a clean transcript
        self.line_open = False  # a reply's last line has no newline yet
        # The editor always draws on the terminal; prompt_toolkit itself heeds NO_COLOR too.
        self.colour = not os.environ.get("NO_COLOR")

    def note(self, text: str) -> None:
        """Say something about the session on stderr (not a reply): dim on a colour terminal."""
        print(f"\033[2m{text}\033[0m" if use_colour(sys.stderr) else text, file=sys.stderr,
              flush=True)

    def error(self, error: BaseException) -> None:
        """Report a failed turn or command on stderr in one line; the session goes on."""
        line = f"{PROG}: {cli_message(error)}"
        print(f"\033[31m{line}\033[0m" if use_colour(sys.stderr) else line,
              file=sys.stderr, flush=True)

    async def read(self, prompt: str = "> ") -> str:
        """Read one line; the prompt is bold green on a colour terminal."""
        from prompt_toolkit.formatted_text import FormattedText

        shown = FormattedText([("ansigreen bold" if self.colour else "", prompt)])
        return await self.prompts.prompt_async(shown)

    async def read_message(self) -> str:
        """Read what the user typed: a line, lines ending in \\, or a /multi block."""
        line = await self.read()
        if line.strip() in _MULTI:
            self.note(f"(multi-line: end with {_END[0]} on a line of its own)")
            lines: list[str] = []
            while True:
                try:
                    more = await self.read("... ")
                except EOFError:
                    break  # Ctrl-D ends the block as !end does
                if more.strip() in _END:
                    break
                lines.append(more)
            return "\n".join(lines)
        while line.endswith("\\"):
            line = line[:-1] + "\n" + await self.read("... ")
        return line

    async def command(self, line: str) -> bool:
        """Run a /command; return False when the session should end."""
        name, _, rest = line.strip().partition(" ")
        rest = rest.strip()
        if name in ("/exit", "/quit"):
            return False
        if name == "/help":
            self.note(HELP)
        elif name == "/model" and not rest:
            self.note(f"model: {self.conversation.model}")
        elif name == "/model":
            try:
                await check_model(self.registry, rest, "chat")
            except (CliError, JackfieldError) as error:
                self.error(error)
            else:
                self.conversation.model = rest
                self.note(f"model: {rest}")
        elif name == "/system":
            self.conversation.system = rest or None
            self.note(f"system message: {rest}" if rest else "system message cleared")
        else:
            self.note(f"unknown command {name}: /help lists the commands")
        return True

    async def reply(self, prompt: str) -> str:
        """Stream the reply to prompt to stdout; return its text."""
        conversation = self.conversation
        messages = conversation.messages(prompt)
        # One log row per turn, written however it ends (Ctrl-C: "interrupted").
        with self.log.call(prompt=prompt, system=conversation.system,
                           model=conversation.model, options=self.options) as call:
            if self.args.no_stream:
                completion: Completion = await self.registry.complete(
                    conversation.model, messages, timeout=self.args.timeout, **self.options)
                self.show(completion.text)
            else:
                stream = await self.registry.complete(
                    conversation.model, messages, stream=True, timeout=self.args.timeout,
                    **self.options)
                async with stream:  # closes the connection however the turn ends (Ctrl-C)
                    async for chunk in stream:
                        if chunk.text:
                            call.provider = call.provider or stream.provider
                            call.add_text(chunk.text)
                            self.show(chunk.text)
                completion = stream.completion
            call.finish(completion)
        self.end_line()  # a warning starts on a line of its own
        warn(call.warnings)  # as the one-shot chat says them
        return completion.text

    def show(self, text: str) -> None:
        """Write a piece of the reply as it comes."""
        if text:
            self.out.write(text)
            self.out.flush()
            self.line_open = not text.endswith("\n")

    def end_line(self) -> None:
        """Finish the reply's last line, so the prompt and notes start on their own."""
        if self.line_open:
            self.out.write("\n")
            self.out.flush()
            self.line_open = False

    async def turn(self, prompt: str) -> None:
        """Answer one message; a failure or Ctrl-C ends the turn, not the session."""
        try:
            cancelled, text = await interruptible(self.reply(prompt))
        except (CliError, JackfieldError, OSError) as error:
            self.end_line()
            self.error(error)
            return
        self.end_line()
        if cancelled or text is None:
            self.note("(cancelled)")  # the partial reply is not kept in the conversation
            return
        self.conversation.add(prompt, text)

    async def run(self) -> int:
        """Loop until Ctrl-D or /exit; return the exit status (0)."""
        if self.conversation.turns:
            self.note(f"continuing conversation {self.log.cid} "
                      f"({len(self.conversation.turns) // 2} turns)")
        self.note(f"{PROG} chat with {self.conversation.model}: /help for the commands, "
                  "Ctrl-D to leave")
        while True:
            try:
                message = await self.read_message()
            except KeyboardInterrupt:
                continue  # Ctrl-C at the prompt drops the line, as a shell does
            except EOFError:
                return 0
            if message.lstrip().startswith("/") and "\n" not in message:
                if not await self.command(message):
                    return 0
            elif message.strip():
                await self.turn(message)


async def run_session(args: argparse.Namespace) -> int:
    """Open the interactive session (stdin is a terminal and no prompt was given)."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.output import create_output

    with CallLog.open(args) as log:  # -c, --cid, --no-log, `jackfield logs off`
        model = log.model(args.model)
        history = (log.store.history(log.cid)
                   if log.store is not None and log.cid is not None else [])
        async with Registry.discover(strict=args.strict) as registry:
            log.use_secrets(registry_secrets(registry))
            await check_model(registry, model, "chat")  # a wrong -m fails before the first prompt
            # The editor draws on the terminal even when stdout is a file: replies go there.
            prompts: PromptSession[str] = PromptSession(
                history=_history(log.writable), output=create_output(always_prefer_tty=True))
            conversation = Conversation.resume(model, args.system, history)
            return await Session(args, registry, prompts, conversation, log).run()
