"""`jackfield completion bash|zsh|fish`: a completion script generated from the parser.

Generated, not hand-kept: every command and option the parser has is in the script, so a new
flag completes without anyone remembering to add it. The scripts are static (no Python runs on
Tab) except for model and provider names, which they ask `jackfield models` for. argparse
keeps its actions in `_actions`; that attribute is the one every completion generator reads.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Sequence

from jackfield._cli.common import PROG, Parser

__all__ = ["SHELLS", "Command", "Option", "add_parser", "commands", "script"]

SHELLS = ("bash", "zsh", "fish")
# Option values the shells can offer: model ids and provider names come from the installed
# plugins (asked for when Tab is pressed), these destinations are paths.
_MODELS = f"{PROG} models 2>/dev/null | awk 'NR > 1 {{print $1}}'"
# Route groups are rows too, with "(route)" where a provider goes: no provider to offer.
_PROVIDERS = f"{PROG} models 2>/dev/null | awk 'NR > 1 && $2 !~ /^[(]/ {{print $2}}' | sort -u"
_PATHS = frozenset({"output", "dir"})


class Option:
    """One option of a command, as the completion scripts need it."""

    # A plain class: a NamedTuple or dataclass costs start-up time on every `jackfield` run.
    def __init__(self, strings: tuple[str, ...], help: str, takes_value: bool, repeats: bool,
                 values: str) -> None:
        self.strings = strings
        self.help = help
        self.takes_value = takes_value
        self.repeats = repeats
        self.values = values  # "models", "providers", "paths", "" (free text) or choices


class Command:
    """One command: its options and the choices of its positional argument, if any."""

    def __init__(self, name: str, help: str, options: tuple[Option, ...],
                 choices: tuple[str, ...]) -> None:
        self.name = name
        self.help = help
        self.options = options
        self.choices = choices


def _summary(text: str | None) -> str:
    """Return the first clause of a help text: the shells show one short line."""
    text = re.split(r" \(|; |\.\s+(?=[A-Z])", " ".join((text or "").split()), maxsplit=1)[0]
    if len(text) > 70:
        text = text[:70].rsplit(" ", 1)[0] + "..."
    return text.rstrip(".") if not text.endswith("...") else text


def _values(action: argparse.Action) -> str:
    if action.choices is not None:
        return " ".join(map(str, action.choices))
    if action.dest == "model":
        return "models"
    if action.dest == "provider":
        return "providers"
    return "paths" if action.dest in _PATHS else ""


def _options(parser: argparse.ArgumentParser) -> tuple[Option, ...]:
    return tuple(Option(tuple(action.option_strings), _summary(action.help), action.nargs != 0,
                        isinstance(action, argparse._AppendAction), _values(action))
                 for action in parser._actions
                 if action.option_strings and action.help != argparse.SUPPRESS)


def commands(parser: argparse.ArgumentParser) -> tuple[tuple[Option, ...], tuple[Command, ...]]:
    """Return the top-level options and every command of parser."""
    found: list[Command] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                choices = next((tuple(map(str, a.choices)) for a in sub._actions
                                if not a.option_strings and a.choices), ())
                found.append(Command(name, _summary(sub.description), _options(sub), choices))
    return _options(parser), tuple(found)


def _words(options: Sequence[Option], extra: Sequence[str] = ()) -> str:
    return " ".join([*extra, *(string for option in options for string in option.strings)])


def _bash(top: Sequence[Option], cmds: Sequence[Command]) -> str:
    lines = [f"# {PROG} completion for bash: source <({PROG} completion bash), or save it in",
             "# ~/.local/share/bash-completion/completions/jackfield",
             f"_{PROG}() {{", '    local cur="${COMP_WORDS[COMP_CWORD]}" '
             'prev="${COMP_WORDS[COMP_CWORD-1]}" cmd="" i',
             "    for ((i = 1; i < COMP_CWORD; i++)); do",
             '        case "${COMP_WORDS[i]}" in -*) ;; *) cmd="${COMP_WORDS[i]}"; break ;; esac',
             "    done", '    case "$cmd:$prev" in']
    for command in cmds:
        for option in command.options:
            if not option.takes_value:
                continue
            pattern = "|".join(f"{command.name}:{string}" for string in option.strings)
            if option.values == "models":
                words = f'-W "$({_MODELS})"'
            elif option.values == "providers":
                words = f'-W "$({_PROVIDERS})"'
            elif option.values == "paths":
                words = "-f"
            elif option.values:
                words = f'-W "{option.values}"'
            else:
                lines.append(f"        {pattern}) return ;;")  # free text: nothing to offer
                continue
            lines.append(f'        {pattern}) COMPREPLY=($(compgen {words} -- "$cur")); '
                         "return ;;")
    lines += ["    esac", '    case "$cmd" in',
              f'        "") COMPREPLY=($(compgen -W "{_words(top, [c.name for c in cmds])}" '
              '-- "$cur")) ;;']
    for command in cmds:
        lines.append(f'        {command.name}) COMPREPLY=($(compgen -W '
                     f'"{_words(command.options, command.choices)}" -- "$cur")) ;;')
    lines += ["    esac", "}", f"complete -o default -F _{PROG} {PROG}", ""]
    return "\n".join(lines)


def _zsh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _zsh_spec(string: str, option: Option) -> str:
    described = re.sub(r"([\[\]:\\])", r"\\\1", option.help)
    spec = f"{'*' if option.repeats else ''}{string}[{described}]"
    if option.takes_value:
        action = {"models": f"_{PROG}_models", "providers": f"_{PROG}_providers",
                  "paths": "_files", "": " "}.get(option.values, f"({option.values})")
        spec += f":{option.strings[-1].lstrip('-')}:{action}"
    return _zsh_quote(spec)


def _zsh(top: Sequence[Option], cmds: Sequence[Command]) -> str:
    described = " ".join(_zsh_quote(f"{c.name}:{c.help.replace(':', ' ')}") for c in cmds)
    lines = [f"#compdef {PROG}",
             f"# {PROG} completion for zsh: source <({PROG} completion zsh), or save it as",
             "# _jackfield in a directory of $fpath",
             f"_{PROG}_models() {{ compadd -- ${{(f)\"$({_MODELS})\"}} }}",
             f"_{PROG}_providers() {{ compadd -- ${{(f)\"$({_PROVIDERS})\"}} }}",
             f"_{PROG}() {{", "    local cmd i",
             "    for (( i = 2; i < CURRENT; i++ )); do",
             "        if [[ $words[i] != -* ]]; then cmd=$words[i]; break; fi", "    done",
             '    if [[ -z $cmd ]]; then',
             f"        local -a commands=({described})",
             f"        if [[ $PREFIX == -* ]]; then compadd -- {_words(top)}",
             "        else _describe command commands; fi", "        return", "    fi",
             "    words=(${words[i,-1]}); (( CURRENT -= i - 1 ))", "    case $cmd in"]
    for command in cmds:
        specs = [_zsh_spec(string, option) for option in command.options
                 for string in option.strings]
        positional = (f"':{command.name}:({' '.join(command.choices)})'" if command.choices
                      else "'*:argument:_files'")
        lines.append(f"        {command.name}) _arguments {' '.join(specs)} {positional} ;;")
    lines += ["    esac", "}",
              f'if [[ $zsh_eval_context[-1] == loadautofunc ]]; then _{PROG} "$@"; '
              f"else compdef _{PROG} {PROG}; fi", ""]
    return "\n".join(lines)


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fish_flags(option: Option) -> str:
    flags = [f"-s {s[1:]}" if not s.startswith("--") else f"-l {s[2:]}" for s in option.strings]
    if option.takes_value:
        values = {"models": f"-x -a '(__{PROG}_models)'",
                  "providers": f"-x -a '(__{PROG}_providers)'", "paths": "-r -F", "": "-x"}
        flags.append(values.get(option.values, f"-x -a {_fish_quote(option.values)}"))
    return " ".join([*flags, "-d", _fish_quote(option.help)])


def _fish(top: Sequence[Option], cmds: Sequence[Command]) -> str:
    names = " ".join(command.name for command in cmds)
    lines = [f"# {PROG} completion for fish: {PROG} completion fish | source, or save it as",
             "# ~/.config/fish/completions/jackfield.fish",
             f"function __{PROG}_models; {_MODELS}; end",
             f"function __{PROG}_providers; {_PROVIDERS}; end",
             f"complete -c {PROG} -f"]
    first = f"not __fish_seen_subcommand_from {names}"
    lines += [f"complete -c {PROG} -n {_fish_quote(first)} {_fish_flags(o)}" for o in top]
    lines += [f"complete -c {PROG} -n {_fish_quote(first)} -a {c.name} -d {_fish_quote(c.help)}"
              for c in cmds]
    for command in cmds:
        seen = f"-n '__fish_seen_subcommand_from {command.name}'"
        lines += [f"complete -c {PROG} {seen} {_fish_flags(o)}" for o in command.options]
        if command.choices:
            lines.append(f"complete -c {PROG} {seen} -a {_fish_quote(' '.join(command.choices))}")
        elif command.name in ("install", "uninstall", "image", "chat"):
            lines.append(f"complete -c {PROG} {seen} -F")  # wheels, directories, prompt files
    return "\n".join([*lines, ""])


def script(shell: str, parser: argparse.ArgumentParser) -> str:
    """Return the completion script for shell (bash, zsh or fish) of parser's commands."""
    top, cmds = commands(parser)
    return {"bash": _bash, "zsh": _zsh, "fish": _fish}[shell](top, cmds)


def cmd_completion(args: argparse.Namespace) -> int:
    """Print the completion script of the chosen shell."""
    from jackfield._cli.main import build_parser  # the whole parser, this command included

    print(script(args.shell, build_parser()), end="")
    return 0


def add_parser(command: Callable[..., Parser]) -> None:
    """Add `completion`, through main.py's command(name, help, run, *examples)."""
    sub = command("completion", "Print a shell completion script for bash, zsh or fish.",
                  cmd_completion, "source <(jackfield completion bash)   # in ~/.bashrc",
                  "source <(jackfield completion zsh)    # in ~/.zshrc, after compinit",
                  "jackfield completion fish > ~/.config/fish/completions/jackfield.fish")
    sub.add_argument("shell", choices=SHELLS, help="the shell to complete in")
