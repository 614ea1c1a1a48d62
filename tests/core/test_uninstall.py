"""Uninstalling one provider distribution leaves the others working."""

from __future__ import annotations

import os
import site
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import asyncio, sys
from jackfield import Registry, UnknownModelError
from jackfield.testing._emulation import serve_app
from jackfield_amigochat.emulator import create_app

async def main():
    async with serve_app(create_app()) as url:
        registry = Registry.discover(config={"amigochat": {"base_url": url}})
        async with registry:
            print(sorted(r.distribution for r in registry.plugins()))
            print((await registry.complete("gpt-4o-mini", "still here?")).text)
            try:
                await registry.complete("gpt-4", "hi")
            except UnknownModelError as error:
                print("gpt-4:", type(error).__name__)
asyncio.run(main())
"""


def test_the_other_plugin_works_once_aichats_is_uninstalled(tmp_path: Path) -> None:
    """Rebuild site-packages without jackfield-aichats's metadata and .pth: as pip uninstall."""
    site_packages = Path(next(p for p in site.getsitepackages() if "site-packages" in p))
    if not any(site_packages.glob("jackfield_aichats-*.dist-info")):
        pytest.skip("jackfield-aichats is not installed in this environment")
    fake = tmp_path / "site-packages"
    fake.mkdir()
    for entry in site_packages.iterdir():
        if entry.name.startswith(("jackfield_aichats", "_jackfield_aichats")):
            continue  # what `pip uninstall jackfield-aichats` removes
        (fake / entry.name).symlink_to(entry)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("JACKFIELD_")}
    bootstrap = (f"import site, sys; sys.path.remove({str(site_packages)!r}); "
                 f"site.addsitedir({str(fake)!r}); exec({SCRIPT!r})")
    result = subprocess.run([sys.executable, "-c", bootstrap], capture_output=True, text=True,
                            env=environ, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "jackfield-aichats" not in lines[0] and "jackfield-amigochat" in lines[0]
    assert lines[1].endswith("You said: still here?")
    assert lines[2] == "gpt-4: UnknownModelError"
