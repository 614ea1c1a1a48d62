"""`jackfield install` / `jackfield uninstall`: plugins by name, remembered for --restore.

pip does the work, in jackfield's own environment (`sys.executable -m pip`), so a plugin
lands where this `jackfield` can load it whatever way jackfield was installed (pipx, a venv).
What was installed is kept in plugins.json in the config directory: an upgrade that replaces
the environment (pipx reinstall, a new venv) loses the plugins, `install --restore` brings
them back. pip's options are never remembered: an index URL may carry a password.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from jackfield._cli.common import EXIT_USAGE, PROG, CliError, Parser

if TYPE_CHECKING:
    from pathlib import Path  # imported where used: `jackfield --help` loads this module

__all__ = ["add_parsers", "load_records", "pip_arguments", "records_path", "save_records",
           "shield", "spec_name"]

RECORDS_FILE = "plugins.json"
PREFIX = "jackfield-"
ENTRY_POINT_GROUP = "jackfield"  # jackfield._engine.discovery's, not imported: it loads pluggy

# pip options that take a value as the next argument: that value is passed on untouched (never
# given the jackfield- prefix). `--opt=value` needs no entry.
_VALUE_OPTIONS = frozenset({
    "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-t", "--target",
    "--platform", "--python-version", "--implementation", "--abi", "--root", "--prefix",
    "--src", "--upgrade-strategy", "-C", "--config-settings", "--global-option",
    "--no-binary", "--only-binary", "--progress-bar", "--root-user-action", "--report",
    "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--python", "--log",
    "--keyring-provider", "--proxy", "--retries", "--timeout", "--exists-action",
    "--trusted-host", "--cert", "--client-cert", "--cache-dir", "--use-feature",
    "--use-deprecated", "--group",
})
_OWN_OPTIONS = frozenset({"-h", "--help", "--debug", "--restore"})  # the rest is pip's
_REQUIREMENT = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)(\s*(?:\[[^\]]*\])?\s*(?:[<>=!~;].*)?)$")
_ARCHIVE = re.compile(r"([A-Za-z0-9][A-Za-z0-9._]*?)-\d[^/]*\.(?:whl|tar\.gz|zip|tar\.bz2)$")


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503, as pip compares names


def records_path(environ: Mapping[str, str] | None = None) -> Path:
    """Return the file that remembers the installed plugins, in the user config directory."""
    from jackfield._settings.userfiles import config_dir  # here: --help must not load it

    folder = config_dir(environ)
    assert folder is not None  # the real environment always has a config directory
    return folder / RECORDS_FILE


def _is_location(token: str) -> bool:
    """Whether token names a file, directory or URL rather than a distribution."""
    return ("/" in token or os.sep in token or token.startswith((".", "~"))
            or "://" in token or token.startswith("git+") or "@" in token
            or _ARCHIVE.search(token) is not None or os.path.exists(token))


def shield(argv: Sequence[str] | None) -> list[str]:
    """Return argv with `--` put before the pip options of `install`/`uninstall`, so that
    argparse hands them on instead of refusing them (`jackfield install --restore --no-deps`).
    """
    tokens = list(sys.argv[1:] if argv is None else argv)
    start = next((i for i, token in enumerate(tokens) if not token.startswith("-")), None)
    if start is None or tokens[start] not in ("install", "uninstall"):
        return tokens
    own = start + 1
    while own < len(tokens) and tokens[own] in _OWN_OPTIONS:
        own += 1
    if own < len(tokens) and tokens[own].startswith("-") and tokens[own] != "--":
        tokens.insert(own, "--")
    return tokens


def pip_arguments(tokens: Sequence[str]) -> list[tuple[str, bool]]:
    """Return the arguments for pip, each with whether it is a plugin spec (not an option).

    A bare name or requirement (`aichats`, `aichats==0.2`) gets the jackfield- prefix it lacks;
    a path, URL, `name @ url`, pip option or option value passes through unchanged. A `--`
    (pip options first: `jackfield install -- -e DIR`) is dropped.
    """
    result: list[tuple[str, bool]] = []
    taking_value = False
    for token in tokens:
        if taking_value:
            result.append((token, result[-1][0] in ("-e", "--editable")))
            taking_value = False
        elif token == "--":
            continue
        elif token.startswith("-"):
            result.append((token, False))
            taking_value = token in _VALUE_OPTIONS
        elif _is_location(token):
            result.append((token, True))
        else:
            match = _REQUIREMENT.match(token)
            name = match.group(1) if match else token
            if match and _normalize(name) != "jackfield" and not _normalize(name).startswith(
                    PREFIX):
                token = PREFIX + token
            result.append((token, True))
    return result


def spec_name(spec: str) -> str | None:
    """Return the normalized distribution name a pip spec installs, when it can be told."""
    spec = spec.strip()
    if "@" in spec and "://" not in spec.split("@", 1)[0]:
        return _normalize(spec.split("@", 1)[0].strip().split("[")[0])  # name @ url
    egg = re.search(r"#egg=([A-Za-z0-9._-]+)", spec)
    if egg:
        return _normalize(egg.group(1))
    archive = _ARCHIVE.search(spec.rsplit("/", 1)[-1])
    if archive:
        return _normalize(archive.group(1))
    from pathlib import Path

    path = Path(spec).expanduser()
    if path.is_dir() and (path / "pyproject.toml").is_file():
        import tomllib

        with (path / "pyproject.toml").open("rb") as file:
            name = tomllib.load(file).get("project", {}).get("name")
        return _normalize(name) if isinstance(name, str) else None
    if not _is_location(spec):
        match = _REQUIREMENT.match(spec)
        return _normalize(match.group(1)) if match else None
    return None


def _recorded(spec: str) -> str:
    """Return spec as remembered: paths made absolute, credentials cut out of URLs."""
    if "://" in spec:
        return re.sub(r"://[^/@\s]+@", "://", spec)
    from pathlib import Path

    if _is_location(spec) and Path(spec).expanduser().exists():
        return str(Path(spec).expanduser().resolve())
    return spec


def load_records(path: Path) -> list[dict[str, Any]]:
    """Return the remembered plugins: [{"name": ..., "args": [...]}], oldest first."""
    from jackfield._settings.userfiles import read_json

    plugins = read_json(path).get("plugins", [])
    if not isinstance(plugins, list):
        raise CliError(f"{path} has no \"plugins\" list; fix it or delete it (it only lists "
                       f"the plugins `{PROG} install --restore` reinstalls)", EXIT_USAGE)
    return [entry for entry in plugins if isinstance(entry, dict)
            and isinstance(entry.get("name"), str) and isinstance(entry.get("args"), list)]


def save_records(path: Path, records: Sequence[Mapping[str, Any]]) -> None:
    """Write the records atomically: a crash mid-write keeps the old file."""
    from jackfield._settings.userfiles import write_json

    write_json(path, {"version": 1, "plugins": list(records)})


def _plugin_dists() -> dict[str, str]:
    """Return the installed distributions that carry a jackfield plugin: name -> version."""
    import importlib
    import importlib.metadata

    importlib.invalidate_caches()  # pip has just changed site-packages under us
    return {_normalize(dist.metadata["Name"]): dist.version
            for dist in importlib.metadata.distributions()
            if any(ep.group == ENTRY_POINT_GROUP for ep in dist.entry_points)}


def _pip(command: str, arguments: Sequence[str]) -> int:
    """Run pip in this environment; its output streams through; return its exit status."""
    import importlib.util
    import subprocess

    if importlib.util.find_spec("pip") is None:
        raise CliError(f"jackfield's environment ({sys.prefix}) has no pip: add it with "
                       f"`{sys.executable} -m ensurepip`, or, for a uv tool, reinstall with "
                       "`uv tool install jackfield --with jackfield-NAME`")
    sys.stdout.flush()
    return subprocess.run([sys.executable, "-m", "pip", command, *arguments],
                          check=False).returncode


def _note(text: str) -> None:
    print(f"{PROG}: {text}", file=sys.stderr)


def _remember(path: Path, specs: Sequence[list[str]], before: Mapping[str, str]) -> None:
    """Record which plugin each spec installed (matched by name, else the one new plugin)."""
    after = _plugin_dists()
    new = [name for name, version in after.items() if before.get(name) != version]
    records = load_records(path)
    unmatched: list[list[str]] = []
    for args in specs:
        name = spec_name(args[-1])
        if name is None and len(specs) == 1 and len(new) == 1:
            name = new[0]  # a URL or requirements file that installed exactly one plugin
        if name is None:
            unmatched.append(args)
            continue
        if name not in after:
            _note(f"{name} is not a jackfield plugin (no `{ENTRY_POINT_GROUP}` entry point); "
                  "not remembered")
            continue
        records = [entry for entry in records if _normalize(entry["name"]) != name]
        records.append({"name": name, "args": [_recorded(arg) for arg in args]})
        _note(f"remembered {name} {after[name]}: `{PROG} install --restore` reinstalls it")
    for args in unmatched:
        _note(f"cannot tell which plugin {' '.join(args)} installed; not remembered (install "
              "it by name, wheel or directory so --restore can bring it back)")
    save_records(path, records)


def _split_specs(tokens: Sequence[str]) -> tuple[list[str], list[list[str]]]:
    """Return the pip arguments and the spec groups among them (`-e DIR` is one group)."""
    arguments: list[str] = []
    specs: list[list[str]] = []
    for token, is_spec in pip_arguments(tokens):
        if is_spec:
            specs.append([*arguments[-1:], token] if arguments[-1:] in (["-e"], ["--editable"])
                         else [token])
        arguments.append(token)
    return arguments, specs


def cmd_install(args: argparse.Namespace) -> int:
    """Install plugins with pip (or reinstall the remembered ones) and remember them."""
    path = records_path()
    arguments, specs = _split_specs(args.specs)
    if args.restore:
        if specs:
            raise CliError("--restore reinstalls the remembered plugins and takes no names: "
                           "give pip's options only", EXIT_USAGE)
        records = load_records(path)
        if not records:
            _note(f"no plugins to restore ({path} lists none)")
            return 0
        _note("restoring " + ", ".join(entry["name"] for entry in records))
        return _pip("install", [*(arg for entry in records for arg in entry["args"]), *arguments])
    if not specs:
        raise CliError(f"name a plugin to install, e.g. `{PROG} install aichats`, or give "
                       "--restore", EXIT_USAGE)
    before = _plugin_dists()
    status = _pip("install", arguments)
    if status == 0:
        _remember(path, specs, before)
    return status


def cmd_uninstall(args: argparse.Namespace) -> int:
    """Uninstall plugins with pip and forget them."""
    arguments, specs = _split_specs(args.specs)
    names = [spec_name(group[-1]) or group[-1] for group in specs]
    if not names:
        raise CliError(f"name a plugin to uninstall, e.g. `{PROG} uninstall aichats`", EXIT_USAGE)
    if "jackfield" in names:
        raise CliError(f"{PROG} uninstall removes plugins, not jackfield itself: run "
                       "`python -m pip uninstall jackfield` for that", EXIT_USAGE)
    status = _pip("uninstall", ["--yes", *arguments])
    if status == 0:
        path = records_path()
        records = load_records(path)
        kept = [entry for entry in records if _normalize(entry["name"]) not in names]
        if len(kept) != len(records):
            save_records(path, kept)
            _note(f"forgot {', '.join(sorted(set(names)))}")
    return status


def add_parsers(command: Callable[..., Parser]) -> None:
    """Add `install` and `uninstall`, through main.py's command(name, help, run, *examples)."""
    install = command(
        "install", "Install plugins with pip into jackfield's own environment and remember "
        "them (in plugins.json under $JACKFIELD_CONFIG_DIR, else the user config directory) "
        "for --restore.", cmd_install,
        "jackfield install aichats amigochat    # jackfield-aichats, jackfield-amigochat",
        "jackfield install ./jackfield_echoapi-0.4.0-py3-none-any.whl --no-deps",
        "jackfield install -e ./examples/echoapi --no-deps   # pip's options pass through",
        "jackfield install --restore           # after an upgrade: the remembered plugins")
    install.add_argument("--restore", action="store_true",
                         help="reinstall every remembered plugin (pip options may follow)")
    install.add_argument("specs", nargs=argparse.REMAINDER, metavar="NAME|PATH|URL",
                         help="plugins: a name (the jackfield- prefix is added when missing), "
                              "a requirement, a wheel, a directory or a URL; then any pip "
                              "install options")
    uninstall = command("uninstall", "Uninstall plugins with pip and forget them.",
                        cmd_uninstall, "jackfield uninstall aichats")
    uninstall.add_argument("specs", nargs=argparse.REMAINDER, metavar="NAME",
                           help="plugin names (the jackfield- prefix is added when missing), "
                                "then any pip uninstall options")
