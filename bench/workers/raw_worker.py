"""The limit: a hand-written aiohttp client of the AmigoChat protocol, one shared session.

It sends what jackfield sends (the same headers and body, fresh chatId and device uuid per
call) and does the least a correct client must: read the body, parse the JSON, take the text.
Streams are read line by line with aiohttp's own reader, each `data:` payload parsed as JSON,
to the end of the body (the emulator closes it right after [DONE]) so the connection is reused.
Usage: raw_worker.py EMULATOR_URL
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import aiohttp
import benchloop

HEADERS = {
    "accept": "*/*",
    "accept-language": "en-US,en;q=0.9",
    "authorization": "Bearer",
    "cache-control": "no-cache",
    "content-type": "application/json",
    "origin": "https://amigochat.io/chat/",
    "pragma": "no-cache",
    "referer": "https://amigochat.io/chat/",
    "user-agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                  "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "x-device-language": "en-US",
    "x-device-platform": "web",
    "x-device-version": "1.0.45",
}


class RawClient:
    name = "raw aiohttp"

    def __init__(self) -> None:
        self.session: aiohttp.ClientSession | None = None
        self.endpoint = ""

    async def start(self, url: str) -> None:
        self.endpoint = url + "/v1/chat/completions"
        # No pool cap (limit=0): the memory benchmark holds 1,000 streams at once.
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

    def _post(self, prompt: str, stream: bool) -> Any:
        assert self.session is not None
        body = {
            "chatId": str(uuid.uuid4()), "frequency_penalty": 0, "max_tokens": 4000,
            "messages": [{"role": "user", "content": prompt}], "model": benchloop.MODEL,
            "personaId": benchloop.PERSONA, "presence_penalty": 0, "stream": stream,
            "temperature": 0.5, "top_p": 0.95,
        }
        headers = HEADERS | {"x-device-uuid": str(uuid.uuid4())}
        return self.session.post(self.endpoint, headers=headers, json=body)

    async def one(self, mode: str) -> str:
        if mode == "sse":
            parts: list[str] = []
            async with self._post(benchloop.SHORT_PROMPT, True) as response:
                response.raise_for_status()
                async for line in response.content:
                    if line.startswith(b"data: ") and not line.startswith(b"data: [DONE]"):
                        choices = json.loads(line[6:])["choices"]
                        if choices and choices[0]["delta"].get("content"):
                            parts.append(choices[0]["delta"]["content"])
            return "".join(parts)
        async with self._post(benchloop.SHORT_PROMPT, False) as response:
            response.raise_for_status()
            data = json.loads(await response.read())
        text: str = data["choices"][0]["message"]["content"]
        return text

    async def stream(self, prompt: str, first: Callable[[], None] | None = None) -> int:
        count = 0
        async with self._post(prompt, True) as response:
            response.raise_for_status()
            async for line in response.content:
                if not line.startswith(b"data: ") or line.startswith(b"data: [DONE]"):
                    continue
                choices = json.loads(line[6:])["choices"]
                if choices and choices[0]["delta"].get("content"):
                    count += 1
                    if count == 1 and first is not None:
                        first()
        return count

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()

    def versions(self) -> dict[str, str]:
        return {"aiohttp": aiohttp.__version__}


if __name__ == "__main__":
    benchloop.run(RawClient())
