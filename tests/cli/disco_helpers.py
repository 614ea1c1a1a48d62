"""The discovering test provider (tests/nativeprovider.py) installed as a plugin distribution
would be — a dist-info directory with a real entry point — for `jackfield` in a subprocess,
with its service on the test's loop."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import attrs
from cli_helpers import clean_environ

from nativeprovider import NativeServer

TESTS = Path(__file__).resolve().parent.parent
# Says on the last stderr line whether the Registry was built (as test_cli_listing_cache).
WHICH = ("import sys; from jackfield._cli.main import main; status = main(sys.argv[1:]); "
         "sys.stdout.flush(); print('built' if 'jackfield._engine.registry' in sys.modules "
         "else 'cached', file=sys.stderr); sys.exit(status)")


def install_disco(folder: Path) -> str:
    """Write the plugin distribution jackfield-disco into folder; return the PYTHONPATH."""
    folder.mkdir(parents=True, exist_ok=True)
    info = folder / "jackfield_disco-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: jackfield-disco\n"
                                   "Version: 1.0\n\n")
    (info / "entry_points.txt").write_text("[jackfield]\ndisco = cli_disco:PLUGIN\n")
    (folder / "cli_disco.py").write_text(
        "from nativeprovider import DiscoveringProvider\n\nPLUGIN = DiscoveringProvider()\n")
    return os.pathsep.join([str(folder), str(TESTS)])


@attrs.define
class Disco:
    """The service, and the environment that points `jackfield` at it."""

    server: NativeServer
    environ: dict[str, str]
    config: Path

    def write_config(self, text: str) -> None:
        """Write the config file (JACKFIELD_CONFIG) the runs read."""
        self.config.write_text(text)

    async def run(self, *args: str, stdin: str | None = None, which: bool = False,
                  environ: Mapping[str, str] | None = None,
                  ) -> subprocess.CompletedProcess[str]:
        """Run `jackfield ARGS` to its end in a thread, so the service keeps answering;
        which=True ends stderr with "built" or "cached" (see WHICH)."""
        command = [sys.executable, "-c", WHICH] if which else [sys.executable, "-m",
                                                                "jackfield"]
        return await asyncio.to_thread(
            subprocess.run, [*command, *args], input=stdin, capture_output=True, text=True,
            env={**self.environ, **(environ or {})}, timeout=60)


def disco_environ(url: str, pythonpath: str, config: Path) -> dict[str, str]:
    return clean_environ({"JACKFIELD_LOAD_PLUGINS": "jackfield-disco",
                          "JACKFIELD_DISCO_BASE_URL": url, "PYTHONPATH": pythonpath,
                          "JACKFIELD_CONFIG": str(config)})
