"""Replaying recordings with jackfield.testing: the same Completion, the same typed error, the
same chunks, and a changed request reported as such."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from record_helpers import KEY, TOKEN, Leaky, call_as_recorded, echo_app, record

import jackfield
import jackfield_aichats
import jackfield_amigochat
import jackfield_openai
from jackfield._settings.limits import RetryPolicy
from jackfield.testing import (
    FAULTS_KEY,
    REPLAY_KEY,
    STATS_KEY,
    RegistryFactory,
    ReplayMismatchError,
    ServeApp,
    load_recording,
    replay_app,
)
from jackfield_aichats.emulator import create_app as aichats_app
from jackfield_amigochat.emulator import create_app as amigochat_app
from jackfield_openai.emulator import create_app as openai_app

ONE_TRY = RetryPolicy(attempts=1)
LIVE_KEY = "sk-live-stand-in-0123456789abcdef"


def write(tmp_path: Path, data: dict[str, object]) -> Path:
    path = tmp_path / "recording.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


async def openai_recording(serve_app: ServeApp, make_registry: RegistryFactory,
                           tmp_path: Path, *, stream: bool, fault: str | None = None) -> Path:
    app = openai_app(api_key=LIVE_KEY)
    url = await serve_app(app)
    live = make_registry([jackfield_openai], retry=ONE_TRY, config={
        "openai": {"base_url": f"{url}/v1", "api_key": LIVE_KEY}})
    if fault:
        app[FAULTS_KEY].set(fault)  # the chat endpoint's: the listing before it still works
    data, _failure = await record(live, "openai/gpt-4o-mini", "hello replay", stream=stream)
    return write(tmp_path, data)


@pytest.mark.parametrize("stream", [True, False])
async def test_a_replay_gives_the_completion_the_live_bytes_gave(
        serve_app: ServeApp, make_registry: RegistryFactory, tmp_path: Path,
        stream: bool) -> None:
    recording = load_recording(await openai_recording(serve_app, make_registry, tmp_path,
                                                      stream=stream))
    app = replay_app(recording)
    url = await serve_app(app)
    registry = make_registry([jackfield_openai], config={
        "openai": {"base_url": recording.base_url(url), "api_key": "sk-any-key-will-do"}})
    completion = await call_as_recorded(registry, recording)
    assert completion.text == recording.outcome["text"]
    assert completion.finish_reason == recording.outcome["finish_reason"]
    app[REPLAY_KEY].check()
    assert app[REPLAY_KEY].served == [0, 1]  # the listing, then the call
    assert app[STATS_KEY].requests == 2


@pytest.mark.parametrize("stream", [True, False])
async def test_the_seed_plugins_replay(serve_app: ServeApp, make_registry: RegistryFactory,
                                       stream: bool) -> None:
    cookie = "session=replay-cookie-777777"
    live = make_registry([jackfield_aichats, jackfield_amigochat], retry=ONE_TRY,
                         base_urls={"aichats": await serve_app(aichats_app(cookie=cookie)),
                                    "amigochat": await serve_app(amigochat_app())},
                         config={"aichats": {"cookie": cookie}})
    for model, ignore in (("aichats/gpt-4", ()), ("amigochat/gpt-4o", ("body.chatId",))):
        data, failure = await record(live, model, "seed replay", stream=stream)
        assert failure is None
        recording = load_recording_from(data)
        app = replay_app(recording, ignore=ignore)
        provider = model.partition("/")[0]
        registry = make_registry([jackfield_aichats, jackfield_amigochat],
                                 base_urls={provider: await serve_app(app)},
                                 config={"aichats": {"cookie": "session=other"}})
        completion = await call_as_recorded(registry, recording)
        assert completion.text == data["outcome"]["text"]
        app[REPLAY_KEY].check()


def load_recording_from(data: dict[str, object]) -> jackfield.testing.Recording:
    from jackfield.testing import Recording

    return Recording(json.loads(json.dumps(data)), "in-memory")


async def test_a_changed_request_says_what_differs(serve_app: ServeApp,
                                                   make_registry: RegistryFactory,
                                                   tmp_path: Path) -> None:
    path = await openai_recording(serve_app, make_registry, tmp_path, stream=False)
    app = replay_app(path)
    registry = make_registry([jackfield_openai], retry=ONE_TRY, config={
        "openai": {"base_url": load_recording(path).base_url(await serve_app(app)),
                   "api_key": "sk-any-key-will-do"}})
    with pytest.raises(jackfield.JackfieldError) as caught:
        await registry.complete("openai/gpt-4o-mini", "another prompt", temperature=0.5)
    assert "differs from the recording" in str(caught.value)
    with pytest.raises(ReplayMismatchError) as mismatch:
        app[REPLAY_KEY].check()
    said = str(mismatch.value)
    assert "POST /v1/chat/completions" in said
    assert 'body.messages[0].content: recorded "hello replay", got "another prompt"' in said
    assert "body.temperature: not in the recording (got 0.5)" in said
    # Another route entirely: the replay names what it has.
    with pytest.raises(jackfield.JackfieldError):
        await registry.embed("openai/text-embedding-3-small", "x")
    assert "the recording has GET /v1/models, POST /v1/chat/completions" in (
        app[REPLAY_KEY].mismatches[-1])


async def test_a_recorded_429_replays_as_the_same_typed_error(
        serve_app: ServeApp, make_registry: RegistryFactory, tmp_path: Path) -> None:
    path = await openai_recording(serve_app, make_registry, tmp_path, stream=True,
                                  fault="rate_limit")
    recording = load_recording(path)
    assert recording.outcome["error"]["type"] == "RateLimitError"
    app = replay_app(recording)
    registry = make_registry([jackfield_openai], retry=ONE_TRY, config={
        "openai": {"base_url": recording.base_url(await serve_app(app)),
                   "api_key": "sk-any-key-will-do"}})
    with pytest.raises(jackfield.RateLimitError) as caught:
        await call_as_recorded(registry, recording)
    assert type(caught.value).__name__ == recording.outcome["error"]["type"]
    app[REPLAY_KEY].check()


async def test_a_replay_keeps_the_recorded_chunks(serve_app: ServeApp,
                                                  make_registry: RegistryFactory) -> None:
    live = make_registry([Leaky()], retry=ONE_TRY, config={
        "leaky": {"base_url": await serve_app(echo_app()), "key": KEY, "token": TOKEN}})
    first, _ = await record(live, "leaky/leak-1", "chunks")
    chunks = first["exchanges"][0]["response"]["chunks"]
    assert len(chunks) == 2
    app = replay_app(load_recording_from(first), chunk_pause=0.05)
    again = make_registry([Leaky()], retry=ONE_TRY, config={
        "leaky": {"base_url": await serve_app(app), "key": KEY, "token": TOKEN}})
    second, failure = await record(again, "leaky/leak-1", "chunks")
    assert failure is None
    assert second["exchanges"][0]["response"]["chunks"] == chunks
    assert second["outcome"] == first["outcome"]


def test_a_file_that_is_no_recording_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.json is not a jackfield recording: not JSON"):
        load_recording(path)
    path.write_text(json.dumps({"format": "har"}), encoding="utf-8")
    with pytest.raises(ValueError, match='"format": "jackfield-recording"'):
        load_recording(path)
    path.write_text(json.dumps({"format": "jackfield-recording", "version": 99}),
                    encoding="utf-8")
    with pytest.raises(ValueError, match="format version 99; this jackfield reads version 1"):
        load_recording(path)
    path.write_text(json.dumps({"format": "jackfield-recording", "version": 1,
                                "exchanges": [{"request": {"method": "GET", "path": "x"},
                                               "response": {}}]}), encoding="utf-8")
    with pytest.raises(ValueError, match="path starting /"):
        load_recording(path)
