"""The Python load generator of the server benchmark: the load when wrk is not available, and
always the time to first token (op "ttft": sequential streamed calls, wrk cannot tell when the
first token came).

Mode "direct" is the raw aiohttp client's call to the emulator; mode "serve" posts the same
question, OpenAI-shaped, to `jackfield serve`, and mode "floor" the same OpenAI body and headers
to the floor proxy (bench/peers/floor_proxy.py), when its URL is given.
Usage: loadgen_worker.py EMULATOR_URL SERVE_URL KEY [FLOOR_URL]
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import benchloop
from raw_worker import RawClient


class LoadClient(RawClient):
    name = "python load generator"

    def __init__(self, serve_url: str, key: str, floor_url: str | None = None) -> None:
        super().__init__()
        self.endpoints = {"serve": serve_url + "/v1/chat/completions"}
        if floor_url:
            self.endpoints["floor"] = floor_url + "/v1/chat/completions"
        self.key = key

    def _openai_post(self, mode: str, stream: bool) -> Any:
        """Post the question, OpenAI-shaped, to the server of mode ("serve" or "floor")."""
        assert self.session is not None
        body: dict[str, Any] = {
            "model": benchloop.MODEL,
            "messages": [{"role": "user", "content": benchloop.SHORT_PROMPT}]}
        if stream:
            body["stream"] = True
        return self.session.post(self.endpoints[mode], json=body,
                                 headers={"authorization": f"Bearer {self.key}"})

    async def one(self, mode: str) -> str:
        if mode == "direct":
            return await super().one("json")
        async with self._openai_post(mode, False) as response:
            response.raise_for_status()
            data = json.loads(await response.read())
        text: str = data["choices"][0]["message"]["content"]
        return text

    async def first_token(self, mode: str) -> float:
        """Return the seconds from sending a streamed call to its first line with text."""
        started = time.perf_counter()
        request: Any = (self._post(benchloop.SHORT_PROMPT, True) if mode == "direct" else
                        self._openai_post(mode, True))
        took = None
        async with request as response:
            response.raise_for_status()
            async for line in response.content:  # read to the end: the connection is reused
                if took is None and line.startswith(b"data: {"):
                    choices = json.loads(line[6:])["choices"]
                    if choices and choices[0]["delta"].get("content"):
                        took = time.perf_counter() - started
        if took is None:
            raise RuntimeError(f"no text in the streamed reply ({mode})")
        return took


if __name__ == "__main__":
    benchloop.run(LoadClient(*sys.argv[2:5]))
