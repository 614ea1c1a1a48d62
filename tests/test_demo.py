"""The README's first command runs this demo: keep it working."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_demo_streams_from_each_provider_and_saves_images(tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("JACKFIELD_")}
    environ["JACKFIELD_DEMO_OUTPUT"] = str(tmp_path)
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "demo.py")], env=environ,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Hello from the AiChats emulator." in out
    assert "Hello from the AmigoChat emulator (gpt-4o-mini)." in out
    assert "aichats/gpt-4: streamed" in out and "amigochat/gpt-4o-mini: streamed" in out
    # jackfield-openai's models come from its emulator's listing, embeddings included.
    assert "Hello from the OpenAI emulator (gpt-4o-mini)." in out
    assert "openai/text-embedding-3-small: 2 vectors of 1536 floats" in out
    assert "warning:" not in out
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert "aichats-dalle-0.png" in pngs and any(p.startswith("amigochat-") for p in pngs)
    assert all((tmp_path / name).read_bytes().startswith(b"\x89PNG") for name in pngs)
