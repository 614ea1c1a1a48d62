"""Where `jackfield image` puts what it gets: FILE, FILE-2, ... or new names in a directory,
checked before the provider is asked, and never over an existing file unless --force."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from jackfield._cli.common import EXIT_USAGE, PROG, CliError
from jackfield._errors import ResponseFormatError

if TYPE_CHECKING:
    from jackfield._engine.completion import Completion
    from jackfield._types.events import Image

__all__ = ["all_images", "image_paths", "image_target", "save_image", "save_images"]


def _slug(prompt: str) -> str:
    words = re.findall(r"[a-z0-9]+", prompt.lower())
    return "-".join(words)[:40].strip("-") or "image"


def _free(directory: Path, stem: str, suffix: str, taken: set[Path], *, start: int = 1,
          force: bool = False) -> Path:
    """Return directory/stem+suffix (stem-N from start=N), or the next number if in use."""
    candidate = directory / (f"{stem}{suffix}" if start == 1 else f"{stem}-{start}{suffix}")
    number = max(start + 1, 2)
    while (candidate.exists() and not force) or candidate in taken:
        candidate = directory / f"{stem}-{number}{suffix}"
        number += 1
    taken.add(candidate)
    return candidate


def image_target(output: str | None, directory: str | None,
                 force: bool) -> tuple[str | None, str | None]:
    """Check where images will go before the provider is asked: return (file, directory).

    `--output DIR/` or an existing directory means "into it"; a file that exists is kept
    unless force; the directory is made now, so a typo fails before any image is paid for.
    """
    if output is not None and (output.endswith(("/", os.sep)) or Path(output).is_dir()):
        output, directory = None, output
    if output is not None:
        target = Path(output)
        if target.suffix and target.exists() and not force:
            raise CliError(f"{target} exists: pass --force to overwrite it, or choose another "
                           "--output", EXIT_USAGE)
        if not target.parent.is_dir():
            raise CliError(f"cannot save to {target}: the folder {target.parent} does not "
                           "exist", EXIT_USAGE)
        if not os.access(target.parent, os.W_OK):
            raise CliError(f"cannot save to {target}: {target.parent} is not writable",
                           EXIT_USAGE)
        return output, None
    folder = Path(directory) if directory is not None else Path.cwd()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CliError(f"cannot save into {folder}: {error.strerror or error}",
                       EXIT_USAGE) from error
    return None, str(folder)


def image_paths(images: Sequence[Image], prompt: str, output: str | None,
                directory: str | None, *, force: bool = False) -> list[Path]:
    """Return where each image goes: FILE, FILE-2, ... or new names in the directory.

    Without force, names in use are skipped (FILE itself was checked before the call).
    """
    taken: set[Path] = set()
    if output is not None:
        first = Path(output)
        paths = []
        for index, image in enumerate(images):
            suffix = first.suffix or image.extension
            if index == 0:
                path = first.with_name(first.stem + suffix)
                taken.add(path)
            else:
                path = _free(first.parent, first.stem, suffix, taken, start=index + 1,
                             force=force)
            paths.append(path)
        return paths
    folder = Path(directory) if directory is not None else Path.cwd()
    folder.mkdir(parents=True, exist_ok=True)
    return [_free(folder, _slug(prompt), image.extension, taken) for image in images]


def save_image(path: Path, data: bytes, force: bool) -> Path:
    """Write data to path; without force never over an existing file, even one made since."""
    try:
        with path.open("wb" if force else "xb") as file:
            file.write(data)
    except FileExistsError as error:
        raise CliError(f"{path} exists: pass --force to overwrite it, or choose another "
                       "--output") from error
    except OSError as error:
        raise CliError(f"cannot save to {path}: {error.strerror or error}") from error
    return path


def all_images(completion: Completion) -> list[Image]:
    """Return the images of every reply (`-o n=3` asks for three calls), in order."""
    return [image for reply in completion.choices or (completion,) for image in reply.images]


def save_images(completion: Completion, prompt: str, output: str | None,
                directory: str | None, *, force: bool) -> list[Path]:
    """Save the images that came with bytes and print each path; print the URLs of the rest."""
    images = all_images(completion)
    if not images:
        raise ResponseFormatError(completion.provider, "the reply held no image")
    with_bytes = [i for i in images if i.data is not None]
    paths = image_paths(with_bytes, prompt, output, directory, force=force)
    saved = []
    for path, picture in zip(paths, with_bytes, strict=True):
        assert picture.data is not None
        saved.append(save_image(path, picture.data, force))
        print(saved[-1], flush=True)
    for picture in images:
        if picture.data is None:
            print(f"{PROG}: the provider sent only a URL for an image", file=sys.stderr)
            print(picture.url, flush=True)
    return saved
