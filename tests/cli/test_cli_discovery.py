"""`jackfield models`, `chat` and `embed` with a provider whose models live on its service:
the listing asks it and is cached for the discovery TTL, `--refresh` asks again, a service
that does not answer leaves the static list and a warning (exit 0), route groups are rows,
a model only the service knows can be used."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from disco_helpers import Disco, disco_environ, install_disco

from nativeprovider import NativeServer, vector_of

CONFIG = """\
[routes]
fast = ["disco/plain", "disco/omni"]
vectors = ["disco/embedder"]

[discovery]
ttl = {ttl}
retry = {retry}
"""


@pytest.fixture
async def disco(tmp_path: Path, serve_app: Any) -> Disco:
    server = NativeServer()
    server.known_only = True
    config = tmp_path / "jackfield.toml"
    config.write_text(CONFIG.format(ttl=300, retry=60))
    environ = disco_environ(await serve_app(server.app), install_disco(tmp_path / "site"),
                            config)
    return Disco(server, environ, config)


def _rows(stdout: str) -> dict[str, list[str]]:
    return {line.split()[0]: line.split() for line in stdout.splitlines()[1:]}


def _how(stderr: str) -> str:
    return stderr.splitlines()[-1]


async def test_models_asks_the_service_and_the_cache_keeps_it_for_the_ttl(
        disco: Disco) -> None:
    first = await disco.run("models", which=True)
    assert first.returncode == 0, first.stderr
    assert _how(first.stderr) == "built"
    rows = _rows(first.stdout)
    assert {"omni", "thinker", "plain", "embedder", "fast", "vectors"} <= set(rows)
    assert rows["embedder"][1:3] == ["disco", "embedding"]
    assert rows["fast"][1:3] == ["(route)", "chat"]
    assert "members: disco/plain, disco/omni" in first.stdout
    assert disco.server.listings == 1
    again = await disco.run("models", which=True)
    assert (again.stdout, _how(again.stderr)) == (first.stdout, "cached")
    assert disco.server.listings == 1  # within the TTL: not asked again
    disco.server.listed.append("llava:7b")
    assert "llava:7b" not in (await disco.run("models")).stdout  # still the cached list
    refreshed = await disco.run("models", "--refresh", which=True)
    assert _how(refreshed.stderr) == "built" and "llava:7b" in refreshed.stdout
    assert disco.server.listings == 2


async def test_the_cached_listing_expires_with_the_ttl(disco: Disco) -> None:
    disco.write_config(CONFIG.format(ttl=3600, retry=60))
    assert _how((await disco.run("models", which=True)).stderr) == "built"
    assert _how((await disco.run("models", which=True)).stderr) == "cached"
    # The TTL runs out: the cache says when each listing expires, so that moment is moved
    # into the past (a short TTL and a sleep failed on a loaded machine, where one run of
    # `jackfield models` alone took longer than the TTL).
    cache = Path(disco.environ["JACKFIELD_CACHE_DIR"]) / "models.json"
    data = json.loads(cache.read_text())
    for entry in data["listings"].values():
        entry["expires"] = entry["made"] + 0.001
    cache.write_text(json.dumps(data))
    disco.server.listed.append("llava:7b")
    late = await disco.run("models", which=True)
    assert _how(late.stderr) == "built" and "llava:7b" in late.stdout
    assert disco.server.listings == 2


async def test_kind_embedding_and_json(disco: Disco) -> None:
    result = await disco.run("models", "--kind", "embedding", "--json")
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert {(m["id"], m["provider"]) for m in listed} == {("embedder", "disco"),
                                                          ("vectors", "")}
    assert next(m for m in listed if m["id"] == "vectors")["members"] == ["disco/embedder"]


async def test_a_service_that_does_not_answer_leaves_the_static_list_and_a_warning(
        disco: Disco) -> None:
    disco.server.listing_status = 503
    down = await disco.run("models", which=True)
    assert down.returncode == 0
    rows = _rows(down.stdout)
    assert {"omni", "plain"} <= set(rows) and "embedder" not in rows
    warning = [line for line in down.stderr.splitlines() if "could not be listed" in line]
    assert len(warning) == 1  # the command's own line, not the core's log line as well
    assert warning[0].startswith("jackfield: warning: disco: its models could not be listed")
    # Kept for the discovery retry period only, its warning with it.
    again = await disco.run("models", which=True)
    assert _how(again.stderr) == "cached" and again.stdout == down.stdout
    assert [line for line in again.stderr.splitlines() if "could not be listed" in line
            ] == warning
    assert disco.server.listings == 1
    disco.server.listing_status = None
    back = await disco.run("models", "--refresh")
    assert "embedder" in back.stdout and "warning" not in back.stderr


async def test_a_failed_listing_is_not_kept_past_the_retry_period(disco: Disco) -> None:
    disco.write_config(CONFIG.format(ttl=300, retry=0))
    disco.server.listing_status = 500
    assert "embedder" not in _rows((await disco.run("models")).stdout)
    disco.server.listing_status = None
    result = await disco.run("models", which=True)
    assert _how(result.stderr) == "built" and "embedder" in result.stdout


async def test_chat_with_a_model_only_the_service_lists(disco: Disco) -> None:
    disco.server.listed.append("llava:7b")
    result = await disco.run("chat", "--no-log", "-m", "llava:7b", "hello there")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "You said: hello there"
    assert disco.server.seen[-1]["model"] == "llava:7b"
    missing = await disco.run("chat", "--no-log", "-m", "not-pulled", "hi")
    assert missing.returncode == 2
    assert "Unknown model 'not-pulled'" in missing.stderr
    assert "Traceback" not in missing.stderr


async def test_chat_with_a_pinned_id_the_service_does_not_have(disco: Disco) -> None:
    result = await disco.run("chat", "--no-log", "-m", "disco/not-pulled", "hi")
    assert result.returncode == 2
    assert disco.server.seen[-1]["model"] == "not-pulled"  # passed through as it is
    assert "disco has no model 'not-pulled'" in result.stderr
    assert "jackfield models --refresh" in result.stderr


async def test_embed_prints_the_vectors_as_json(disco: Disco) -> None:
    result = await disco.run("embed", "-m", "embedder", "first text", "second")
    assert result.returncode == 0, result.stderr
    reply = json.loads(result.stdout)
    assert reply["vectors"] == [vector_of("first text"), vector_of("second")]
    assert (reply["model"], reply["provider"]) == ("embedder", "disco")
    assert reply["usage"] == {"prompt_tokens": 3, "total_tokens": 3}
    lines = await disco.run("embed", "-m", "disco/embedder", "--dimensions", "5",
                            stdin="one\n\ntwo words\n")
    assert lines.returncode == 0, lines.stderr
    assert json.loads(lines.stdout)["vectors"] == [vector_of("one", 5), vector_of("two words", 5)]
    assert disco.server.seen[-1] == {"model": "embedder", "input": ["one", "two words"],
                                     "dimensions": 5}


@pytest.mark.parametrize(("args", "expected"), [
    (("-m", "omni", "x"), "'omni' is a chat model: use `jackfield chat`"),
    (("-m", "embedder", "--dimensions", "0", "x"), "dimensions must be a whole number"),
    (("-m", "embedder", "-o", "dimensions=4", "x"), "use --dimensions N"),
    (("-m", "nobody-has-it", "x"), "Unknown model 'nobody-has-it'"),
])
async def test_embed_mistakes_are_one_line(disco: Disco, args: tuple[str, ...],
                                           expected: str) -> None:
    result = await disco.run("embed", *args)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert expected in line
    assert not [body for body in disco.server.seen if "input" in body]


async def test_chat_refuses_an_embedding_model(disco: Disco) -> None:
    result = await disco.run("chat", "--no-log", "-m", "embedder", "hi")
    assert result.returncode == 2
    assert "'embedder' is an embedding model: use `jackfield embed`" in result.stderr
    assert disco.server.seen == []


async def test_a_model_pulled_after_the_listing_was_cached_can_be_called(
        disco: Disco) -> None:
    await disco.run("models")
    disco.server.listed.append("fresh-model")
    result = await disco.run("chat", "--no-log", "-m", "fresh-model", "hi")
    assert result.returncode == 0, result.stderr  # the cache is for listing, not for calls
    assert result.stdout.strip() == "You said: hi"
