"""`jackfield serve --loop`: uvloop with jackfield[speedups], the standard loop otherwise."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest
from cli_helpers import CLI, clean_environ

from jackfield._cli import loops
from jackfield._cli.common import CliError

HAVE_UVLOOP = importlib.util.find_spec("uvloop") is not None


def test_auto_takes_the_standard_loop_without_uvloop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loops.importlib.util, "find_spec", lambda name: None)
    assert loops.runner("auto") is asyncio.run
    assert loops.runner("asyncio") is asyncio.run


@pytest.mark.skipif(HAVE_UVLOOP, reason="uvloop is installed here: it cannot be missing")
def test_asking_for_uvloop_without_it_names_the_extra() -> None:
    with pytest.raises(CliError, match=r"pip install 'jackfield\[speedups\]'") as caught:
        loops.runner("uvloop")
    assert caught.value.status == 2


@pytest.mark.skipif(HAVE_UVLOOP, reason="uvloop is installed here: it cannot be missing")
async def test_serve_with_loop_uvloop_missing_is_one_line_before_listening() -> None:
    process = await asyncio.create_subprocess_exec(
        *CLI, "serve", "--port", "0", "--loop", "uvloop", env=clean_environ(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    assert stdout == b""
    line = stderr.decode().strip()
    assert "\n" not in line and "Traceback" not in line
    assert "pip install 'jackfield[speedups]'" in line


@pytest.mark.skipif(not HAVE_UVLOOP, reason="needs uvloop (jackfield[speedups])")
def test_uvloop_runs_a_coroutine_on_its_loop() -> None:
    import uvloop  # type: ignore[import-not-found, unused-ignore]

    run = loops.runner("auto")

    async def which() -> int:
        return int(isinstance(asyncio.get_running_loop(), uvloop.Loop))

    assert run is not asyncio.run and run(which()) == 1
