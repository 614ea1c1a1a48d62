"""Peer: LiteLLM's acompletion(), as an OpenAI-compatible call to the emulator's endpoint.

`openai/gpt-4o-mini` with api_base at the emulator's /v1. The AmigoChat protocol needs more
than OpenAI's request has, and the emulator refuses a request without it, so LiteLLM is given
it the way LiteLLM documents for provider-specific fields: `extra_body` (chatId, personaId,
stream) and `extra_headers` (the device headers), plus the protocol's default sampling
options as ordinary arguments. The device uuid and chatId are fresh on every call, as
jackfield's are. LITELLM_LOCAL_MODEL_COST_MAP=True keeps LiteLLM from fetching its price list.
Run in bench/.venvs/litellm. Usage: litellm_worker.py EMULATOR_URL
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

import benchloop

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
os.environ.setdefault("LITELLM_LOG", "ERROR")

DEVICE_HEADERS = {"x-device-language": "en-US", "x-device-platform": "web",
                  "x-device-version": "1.0.45"}


class LitellmClient:
    name = "LiteLLM"

    def __init__(self) -> None:
        self.litellm: Any = None
        self.api_base = ""

    async def start(self, url: str) -> None:
        # Installed only in bench/.venvs/litellm, never where mypy runs: untyped (Any) here.
        import litellm  # type: ignore[import-not-found, unused-ignore]

        litellm.telemetry = False
        self.litellm = litellm
        self.api_base = url + "/v1"

    def _call(self, prompt: str, stream: bool) -> Any:
        return self.litellm.acompletion(
            model=f"openai/{benchloop.MODEL}", api_base=self.api_base, api_key="x",
            messages=[{"role": "user", "content": prompt}], stream=stream,
            temperature=0.5, top_p=0.95, max_tokens=4000, frequency_penalty=0,
            presence_penalty=0,
            extra_body={"chatId": str(uuid.uuid4()), "personaId": benchloop.PERSONA,
                        "stream": stream},
            extra_headers=DEVICE_HEADERS | {"x-device-uuid": str(uuid.uuid4())},
        )

    async def one(self, mode: str) -> str:
        if mode == "sse":
            parts = []
            async for chunk in await self._call(benchloop.SHORT_PROMPT, True):
                if chunk.choices and chunk.choices[0].delta.content:
                    parts.append(chunk.choices[0].delta.content)
            return "".join(parts)
        response = await self._call(benchloop.SHORT_PROMPT, False)
        text: str = response.choices[0].message.content
        return text

    async def stream(self, prompt: str, first: Callable[[], None] | None = None) -> int:
        count = 0
        async for chunk in await self._call(prompt, True):
            if chunk.choices and chunk.choices[0].delta.content:
                count += 1
                if count == 1 and first is not None:
                    first()
        return count

    async def close(self) -> None:
        pass

    def versions(self) -> dict[str, str]:
        return {name: version(name) for name in ("litellm", "openai", "httpx", "aiohttp")}


if __name__ == "__main__":
    benchloop.run(LitellmClient())
