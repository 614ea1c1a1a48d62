"""Raw HTTP helpers for the Messages API tests: a POST, and an SSE reply read as events."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

VERSION = {"anthropic-version": "2023-06-01"}


async def post(url: str, body: Any, path: str = "/v1/messages",
               headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    """POST body as JSON; return status, headers and the JSON reply."""
    async with aiohttp.ClientSession() as session, session.post(
            url + path, json=body, headers=VERSION | (headers or {})) as response:
        return response.status, dict(response.headers), await response.json(content_type=None)


async def get(url: str, path: str, headers: dict[str, str] | None = None,
              ) -> tuple[int, Any]:
    """GET path; return status and the JSON reply."""
    async with aiohttp.ClientSession() as session, session.get(
            url + path, headers=headers) as response:
        return response.status, await response.json(content_type=None)


def events_of(text: str) -> list[tuple[str, dict[str, Any]]]:
    """Return the (event name, data) pairs of an SSE body; each data's type is its name."""
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        lines = dict(line.split(": ", 1) for line in block.split("\n"))
        data = json.loads(lines["data"])
        assert data["type"] == lines["event"]
        events.append((lines["event"], data))
    return events


async def stream(url: str, body: dict[str, Any]) -> tuple[int, dict[str, str],
                                                          list[tuple[str, dict[str, Any]]]]:
    """POST body with stream true; return the status, headers and events."""
    async with aiohttp.ClientSession() as session, session.post(
            url + "/v1/messages", json=body | {"stream": True}, headers=VERSION) as response:
        text = await response.text()
        if response.status != 200:
            return response.status, dict(response.headers), [("http", json.loads(text))]
        return response.status, dict(response.headers), events_of(text)


def names(events: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Return the event names, a delta's as "content_block_delta:<delta type>"."""
    return [name + (f":{data['delta']['type']}" if name == "content_block_delta" else "")
            for name, data in events]


def body(**fields: Any) -> dict[str, Any]:
    """Return a Messages body for the native provider's omni model, with fields set."""
    return {"model": "omni", "max_tokens": 64,
            "messages": [{"role": "user", "content": "one two"}]} | fields
