"""What a run needs around it: the peers' venvs, wrk, pyinstrument, and what the machine is."""

from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import subprocess
import sys
from contextlib import suppress
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from harness.common import BIN, OUT, PEERS, PYTHON, ROOT, VENVS, say


def peer_python(peer: str) -> Path:
    return VENVS / peer / "bin" / "python"


def ensure_peer(peer: str) -> bool:
    """Create bench/.venvs/<peer> with the pinned package unless it is there; False if we cannot."""
    return ensure_venv(peer, PEERS[peer])


def ensure_venv(venv: str, requirement: str) -> bool:
    """Create bench/.venvs/<venv> with requirement ("name[extras]==version") unless it is
    there; False if we cannot."""
    name, _, wanted = requirement.partition("==")
    name = name.split("[")[0]
    python = peer_python(venv)
    if python.exists():
        probe = subprocess.run(
            [str(python), "-c", f"import importlib.metadata as m; print(m.version({name!r}))"],
            capture_output=True, text=True, check=False)
        if probe.stdout.strip() == wanted:
            return True
    say(f"installing {requirement} into {python.parent.parent.relative_to(ROOT)} ...")
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(VENVS / venv)], check=True)
    with (OUT / f"pip-{venv}.log").open("w") as log:
        done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", requirement],
                              stdout=log, stderr=subprocess.STDOUT, check=False)
    if done.returncode:
        say(f"could not install {requirement} (see {log.name}): {venv} is left out")
        return False
    return True


def ensure_speedups() -> Path | None:
    """Return the python of bench/.venvs/speedups (jackfield[speedups] and the AmigoChat
    plugin, editable from this checkout), creating it if needed; None if it cannot be."""
    venv = VENVS / "speedups"
    python = venv / "bin" / "python"
    probe = [str(python), "-c", "import jackfield, jackfield_amigochat, orjson, uvloop"]
    if python.exists() and subprocess.run(probe, capture_output=True, check=False).returncode == 0:
        return python
    say(f"installing jackfield[speedups] into {venv.relative_to(ROOT)} ...")
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True)
    with (OUT / "pip-speedups.log").open("w") as log:
        done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-e",
                               f"{ROOT}[speedups]", "-e", str(ROOT / "plugins" / "amigochat")],
                              stdout=log, stderr=subprocess.STDOUT, check=False)
    if done.returncode:
        say(f"could not install jackfield[speedups] (see {log.name}): it is left out")
        return None
    return python


def ensure_pyinstrument() -> bool:
    """Install pyinstrument into the project venv for this run (never a dependency)."""
    # Looked up, not imported: the driver only needs to know the workers can import it.
    if importlib.util.find_spec("pyinstrument") is None:
        say("installing pyinstrument into the project venv (profiling only) ...")
        done = subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "pyinstrument"],
                              capture_output=True, text=True, check=False)
        if done.returncode:
            say(f"could not install pyinstrument: {done.stderr[-500:]}")
            return False
    return True


def have_serve() -> bool:
    """Return whether this checkout's CLI has a `serve` command."""
    if not (BIN / "jackfield").exists():
        return False
    probe = subprocess.run([str(BIN / "jackfield"), "serve", "--help"], capture_output=True,
                           text=True, check=False, timeout=60)
    return probe.returncode == 0


def ensure_wrk() -> str | None:
    """Return wrk's path, installing Debian's package first if we can; None if we cannot."""
    found = shutil.which("wrk")
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    say("installing wrk with apt-get (the server benchmark's load generator) ...")
    env = os.environ.copy() | {"DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    for steps in ([install], [["apt-get", "update", "-q"], install]):
        with (OUT / "apt-wrk.log").open("a") as log:
            if all(subprocess.run(step, stdout=log, stderr=subprocess.STDOUT, env=env,
                                  check=False).returncode == 0 for step in steps):
                break
    return shutil.which("wrk")


def cpu_model() -> str:
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"
