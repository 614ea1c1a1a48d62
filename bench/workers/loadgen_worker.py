"""The Python load generator of the server benchmark, used only when wrk is not available.

Mode "direct" is the raw aiohttp client's call to the emulator; mode "serve" posts the same
question, OpenAI-shaped, to `jackfield serve`. Usage: loadgen_worker.py EMULATOR_URL SERVE_URL KEY
"""

from __future__ import annotations

import json
import sys

import benchloop
from raw_worker import RawClient


class LoadClient(RawClient):
    name = "python load generator"

    def __init__(self, serve_url: str, key: str) -> None:
        super().__init__()
        self.serve_endpoint = serve_url + "/v1/chat/completions"
        self.key = key

    async def one(self, mode: str) -> str:
        if mode == "direct":
            return await super().one("json")
        assert self.session is not None
        body = {"model": benchloop.MODEL,
                "messages": [{"role": "user", "content": benchloop.SHORT_PROMPT}]}
        async with self.session.post(self.serve_endpoint, json=body,
                                     headers={"authorization": f"Bearer {self.key}"}) as response:
            response.raise_for_status()
            data = json.loads(await response.read())
        text: str = data["choices"][0]["message"]["content"]
        return text


if __name__ == "__main__":
    benchloop.run(LoadClient(sys.argv[2], sys.argv[3]))
