"""Peer server: the LiteLLM proxy (`litellm[proxy]`), its OpenAI route's api_base at the emulator.

Writes a proxy config (bench/out/litellm-proxy.yaml) and execs LiteLLM's own CLI on it
(`litellm --config ... --host 127.0.0.1 --port PORT`: one uvicorn process, the proxy's
defaults otherwise). The model list has the benchmark's model twice, because the AmigoChat
protocol needs more than an OpenAI request has and LiteLLM's documented way to add it is per
deployment: `extra_headers` (the device headers) and `extra_body` (chatId, personaId and, for
a non-streamed call, "stream": false, which the OpenAI SDK leaves out and the emulator
requires). `gpt-4o-mini` is the non-streamed deployment; `gpt-4o-mini-sse` sends no "stream"
of its own, so the client's stream=true reaches the emulator, and the proxy is told not to add
stream_options (always_include_stream_usage: false), a field the emulator refuses. Unlike
jackfield's and g4f's, the device uuid and chatId are fixed, not fresh per call (LiteLLM has no
per-call template for them); the emulator accepts that. The proxy refuses to start without a
master key, so it gets the benchmark's key (SERVE_KEY): clients send it as a bearer token, as
they do to serve. LITELLM_LOCAL_MODEL_COST_MAP=True keeps it from fetching its price list;
telemetry is off.
Run in bench/.venvs/litellm-proxy. Usage: litellm_proxy_server.py EMULATOR_URL PORT KEY
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "out"
DEVICE_HEADERS = {"x-device-language": "en-US", "x-device-platform": "web",
                  "x-device-version": "1.0.45", "x-device-uuid": str(uuid.uuid4())}
SAMPLING = {"temperature": 0.5, "top_p": 0.95, "max_tokens": 4000, "frequency_penalty": 0,
            "presence_penalty": 0}


def deployment(name: str, url: str, stream: bool | None) -> dict[str, object]:
    extra_body: dict[str, object] = {"chatId": str(uuid.uuid4()), "personaId": "amigo"}
    if stream is not None:
        extra_body["stream"] = stream
    return {"model_name": name,
            "litellm_params": {"model": "openai/gpt-4o-mini", "api_base": url + "/v1",
                               "api_key": "x", **SAMPLING, "extra_headers": DEVICE_HEADERS,
                               "extra_body": extra_body}}


def main(url: str, port: int, key: str) -> None:
    # JSON is YAML: no yaml writer needed here.
    config = {"model_list": [deployment("gpt-4o-mini", url, False),
                             deployment("gpt-4o-mini-sse", url, None)],
              "general_settings": {"master_key": key, "always_include_stream_usage": False},
              "litellm_settings": {"telemetry": False}}
    OUT.mkdir(exist_ok=True)
    path = OUT / "litellm-proxy.yaml"
    path.write_text(json.dumps(config, indent=1))
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    litellm = Path(sys.executable).parent / "litellm"
    os.execv(litellm, [str(litellm), "--config", str(path), "--host", "127.0.0.1",
                       "--port", str(port), "--num_workers", "1"])


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
