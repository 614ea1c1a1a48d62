"""The emulator holds requests to Ollama's rules, so the plugin's tests mean something."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from jackfield_ollama_example.emulator import SHELF_KEY, create_app

from jackfield.testing import ServeApp


async def post(url: str, path: str, body: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.post(url + path,
                                                                json=body) as response:
        if response.content_type == "application/x-ndjson":
            return response.status, (await response.text()).splitlines()
        return response.status, await response.json()


@pytest.mark.parametrize(("body", "status", "said"), [
    ({"model": "nope:1b", "messages": [{"role": "user", "content": "x"}]}, 404,
     "model 'nope:1b' not found, try pulling it first"),
    ({"model": "llama3.2:3b", "messages": [], "stream": False}, 400, "non-empty"),
    ({"model": "llama3.2:3b", "messages": [{"role": "user", "content": "x"}], "temp": 1}, 400,
     "unknown ['temp']"),
    ({"model": "llama3.2:3b", "messages": [{"role": "user", "content": "x", "images": ["!"]}]},
     400, "does not support images"),
    ({"model": "llava:7b", "messages": [{"role": "user", "content": "x", "images": ["!"]}]},
     400, "not base64"),
    ({"model": "llama3.2:3b", "messages": [{"role": "user", "content": "x"}],
      "options": {"max_tokens": 3}}, 400, "invalid option"),
    ({"model": "llava:7b", "messages": [{"role": "user", "content": "x"}], "think": True},
     400, "does not support thinking"),
    ({"model": "nomic-embed-text:latest", "messages": [{"role": "user", "content": "x"}]},
     400, "does not support chat"),
])
async def test_chat_requests_ollama_refuses(body: dict[str, Any], status: int, said: str,
                                            serve_app: ServeApp) -> None:
    url = await serve_app(create_app())
    got, reply = await post(url, "/api/chat", body)
    assert got == status and said in reply["error"]


async def test_streaming_is_the_default_and_ends_with_done(serve_app: ServeApp) -> None:
    url = await serve_app(create_app())
    status, lines = await post(url, "/api/chat", {
        "model": "llama3.2", "messages": [{"role": "user", "content": "hi"}]})
    assert status == 404  # "llama3.2" means llama3.2:latest, which is not pulled
    status, lines = await post(url, "/api/chat", {
        "model": "llama3.2:3b", "messages": [{"role": "user", "content": "hi"}]})
    assert status == 200 and len(lines) == 4  # "You", " said:", " hi", then the last line
    assert '"done": true' in lines[-1] and '"eval_count": 3' in lines[-1]


async def test_the_shelf_changes_what_tags_and_show_say(serve_app: ServeApp) -> None:
    app = create_app([])
    url = await serve_app(app)
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/api/tags") as response:
            assert await response.json() == {"models": []}
        app[SHELF_KEY].pull("bge-m3", "embedding")
        async with session.get(f"{url}/api/tags") as response:
            (entry,) = (await response.json())["models"]
    assert entry["name"] == "bge-m3" and entry["details"]["format"] == "gguf"
    status, shown = await post(url, "/api/show", {"model": "bge-m3"})
    assert status == 200 and shown["capabilities"] == ["embedding"]
    status, shown = await post(url, "/api/show", {"model": "gone"})
    assert status == 404 and shown == {"error": "model 'gone' not found"}
