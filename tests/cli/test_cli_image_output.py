"""`jackfield image --output`: checked before the provider is asked, never over a kept file."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import Emulators, one_error_line

from jackfield._cli.image_files import image_paths
from jackfield._types.events import Image
from jackfield.testing import STATS_KEY


def image_requests(emulators: Emulators) -> int:
    return emulators.amigochat[STATS_KEY].requests


async def test_an_existing_file_is_kept_without_force(emulators: Emulators,
                                                      tmp_path: Path) -> None:
    target = tmp_path / "cat.png"
    target.write_bytes(b"my own picture")
    result = await emulators.run("image", "-m", "flux-realism", "--output", str(target), "a cat")
    assert result.returncode == 2
    assert "exists: pass --force" in one_error_line(result)
    assert target.read_bytes() == b"my own picture"
    assert image_requests(emulators) == 0  # refused before the provider was asked

    forced = await emulators.run("image", "-m", "flux-realism", "--output", str(target),
                                 "--force", "a cat")
    assert forced.returncode == 0, forced.stderr
    assert target.read_bytes().startswith(b"\x89PNG")


async def test_a_missing_folder_is_refused_before_the_call(emulators: Emulators,
                                                          tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "cat.png"
    result = await emulators.run("image", "-m", "flux-realism", "--output", str(target), "a cat")
    assert result.returncode == 2
    assert "does not exist" in one_error_line(result)
    assert image_requests(emulators) == 0 and not target.parent.exists()


async def test_output_naming_a_directory_writes_into_it(emulators: Emulators,
                                                       tmp_path: Path) -> None:
    new = await emulators.run("image", "-m", "flux-realism", "--output",
                              f"{tmp_path / 'new'}/", "a red cat")
    assert new.returncode == 0, new.stderr
    assert new.stdout.splitlines() == [str(tmp_path / "new" / "a-red-cat.png")]
    existing = await emulators.run("image", "-m", "flux-realism", "--output",
                                   str(tmp_path / "new"), "a red cat")
    assert existing.returncode == 0, existing.stderr
    assert existing.stdout.splitlines() == [str(tmp_path / "new" / "a-red-cat-2.png")]


def test_more_images_skip_names_in_use_unless_forced(tmp_path: Path) -> None:
    png = Image(data=b"x", mime_type="image/png")
    (tmp_path / "out-2.png").write_bytes(b"kept")
    target = str(tmp_path / "out.png")
    assert image_paths([png, png, png], "p", target, None) == [
        tmp_path / "out.png", tmp_path / "out-3.png", tmp_path / "out-4.png"]
    assert image_paths([png, png], "p", target, None, force=True) == [
        tmp_path / "out.png", tmp_path / "out-2.png"]
