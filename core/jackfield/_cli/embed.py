"""`jackfield embed -m MODEL TEXT...`: one vector per text (or per line of standard input),
printed as one JSON object: vectors, model, provider, usage."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TextIO

from jackfield._cli.common import EXIT_USAGE, CliError, Parser, parse_option, positive

__all__ = ["add_parser", "read_texts"]

_NOT_OPTIONS = {"dimensions": "--dimensions N", "timeout": "--timeout", "inputs": "TEXT..."}


def add_parser(command: Callable[..., Parser], run: Callable[[argparse.Namespace], int],
               ) -> None:
    """Add `embed` through main.py's command(name, help, run, *examples)."""
    embed = command("embed", "Embed texts with an embedding model; print the vectors as JSON.",
                    run, "jackfield embed -m text-embedding-3-small \"first text\" \"second\"",
                    "jackfield models --kind embedding   # the embedding models",
                    "cut -f2 notes.tsv | jackfield embed -m local-vllm/bge-m3 --dimensions 256")
    embed.add_argument("-m", "--model", required=True,
                       help="embedding model name or provider/model")
    embed.add_argument("--dimensions", type=int, metavar="N",
                       help="ask for vectors of N numbers (models that can shorten them)")
    embed.add_argument("-o", "--option", dest="options", action="append", default=[],
                       type=parse_option, metavar="KEY=VALUE",
                       help="an option of the provider (repeatable)")
    embed.add_argument("--timeout", type=positive, metavar="SECONDS",
                       help="give up after this many seconds")
    embed.add_argument("texts", nargs="*", metavar="TEXT",
                       help="the texts (default, or '-': one per line of standard input)")


def read_texts(arguments: list[str], stdin: TextIO | None = None) -> list[str]:
    """Return the texts: the arguments, else each non-blank line of standard input."""
    if arguments and arguments != ["-"]:
        return arguments
    stdin = stdin if stdin is not None else sys.stdin
    if stdin is None:
        raise CliError("nothing to embed: pass the texts as arguments or one per line on "
                       "standard input", EXIT_USAGE)
    if stdin.isatty():
        print("(reading texts from standard input, one a line; end with Ctrl-D)",
              file=sys.stderr)
    texts = [line.rstrip("\r\n") for line in stdin if line.strip()]
    if not texts:
        raise CliError("nothing to embed: standard input held no text", EXIT_USAGE)
    return texts


async def embed(args: argparse.Namespace) -> int:
    """Embed the texts; print {"model", "provider", "usage", "vectors"} as JSON."""
    from jackfield._cli.common import check_model
    from jackfield._engine.registry import Registry

    options = dict(args.options)
    for reserved, instead in _NOT_OPTIONS.items():
        if reserved in options:
            raise CliError(f"-o {reserved}=... is not an option of the call: use {instead}",
                           EXIT_USAGE)
    texts = read_texts(args.texts)
    async with Registry.discover() as registry:
        await check_model(registry, args.model, "embedding")
        result = await registry.embed(args.model, texts, dimensions=args.dimensions,
                                      timeout=args.timeout, **options)
    usage = None if result.usage is None else {
        "prompt_tokens": result.usage.prompt_tokens, "total_tokens": result.usage.total_tokens}
    print(json.dumps({"model": result.model, "provider": result.provider, "usage": usage,
                      "vectors": [list(vector) for vector in result.vectors]}), flush=True)
    return 0
