"""The recorded exchanges in recordings/ (made with `jackfield record`, here against the
emulator standing in for the live service) replayed through a registry of this plugin: a
change of the plugin's request or of its reading of the reply fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

import jackfield_openai
from jackfield.testing import REPLAY_KEY, RegistryFactory, ServeApp, load_recording, replay_app

RECORDINGS = Path(__file__).parent / "recordings"


@pytest.mark.parametrize("name", ["chat_stream.json", "chat_once.json"])
async def test_a_recorded_chat_replays(name: str, serve_app: ServeApp,
                                       make_registry: RegistryFactory) -> None:
    recording = load_recording(RECORDINGS / name)
    app = replay_app(recording)
    registry = make_registry([jackfield_openai], config={"openai": {
        "base_url": recording.base_url(await serve_app(app)), "api_key": "sk-replay"}})
    if recording.stream:
        stream = await registry.complete(recording.call["model"], recording.messages,
                                         stream=True, **recording.options)
        async with stream:
            pieces = [chunk.text async for chunk in stream]
        completion = stream.completion
        assert "".join(pieces) == completion.text
    else:
        completion = await registry.complete(recording.call["model"], recording.messages,
                                             **recording.options)
    assert completion.text == recording.outcome["text"]
    assert completion.finish_reason == recording.outcome["finish_reason"]
    app[REPLAY_KEY].check()  # every request the plugin sent matched the recorded one
