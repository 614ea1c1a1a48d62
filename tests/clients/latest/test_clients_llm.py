"""Simon Willison's `llm` command line against `jackfield serve`, configured as its docs say
for an OpenAI-compatible server: extra-openai-models.yaml and a stored key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import pytest
from clientkit import API_KEY, LiveServer

LLM = str(Path(sys.executable).with_name("llm"))
Run = Callable[..., str]


def llm_for(server: LiveServer, home: Path, model_name: str = "gpt-4o") -> Run:
    """Return `run(*args)`: the llm command with a user directory that knows the server."""
    home.mkdir()
    (home / "extra-openai-models.yaml").write_text(
        "- model_id: jackfield-model\n"
        f"  model_name: {model_name}\n"
        f"  api_base: {server.base_url}\n"
        "  api_key_name: jackfield\n"
        "  supports_tools: true\n"
        "  supports_schema: true\n"
        "  vision: true\n")
    environment = {**os.environ, "LLM_USER_PATH": str(home)}

    def run(*args: str) -> str:
        done = subprocess.run([LLM, *args], env=environment, capture_output=True, text=True,
                              timeout=60, check=False)
        assert done.returncode == 0, f"llm {' '.join(args)} failed:\n{done.stderr}"
        return done.stdout

    run("keys", "set", "jackfield", "--value", API_KEY)  # as `llm keys set` asks a user to
    return run


@pytest.fixture
def llm(server: LiveServer, tmp_path: Path) -> Run:
    return llm_for(server, tmp_path / "llm")


def test_prompt_no_stream(llm: Run, server: LiveServer) -> None:
    assert llm("-m", "jackfield-model", "--no-stream", "hello there") == "You said: hello there\n"
    assert server.sent()["stream"] is False


def test_prompt_streamed(llm: Run, server: LiveServer) -> None:
    assert llm("-m", "jackfield-model", "hello there") == "You said: hello there\n"
    assert server.sent()["stream"] is True


def test_schema(llm: Run, server: LiveServer) -> None:
    output = llm("-m", "jackfield-model", "--no-stream", "--schema", "city, temperature int",
                 "The weather in Paris")
    assert json.loads(output) == {"city": "sunny", "temperature": 7}
    assert server.sent()["response_format"]["type"] == "json_schema"


def test_tool(llm: Run, server: LiveServer) -> None:
    # llm runs its built-in llm_version tool and sends the result back for the answer.
    output = llm("-m", "jackfield-model", "--no-stream", "-T", "llm_version",
                 "Which version of llm is this?")
    assert output.strip() == f"The tool said {version('llm')}"
    assert [m["role"] for m in server.sent()["messages"]][-2:] == ["assistant", "tool"]



@pytest.mark.prompted
def test_schema_on_a_text_only_model(prompted_server: LiveServer, tmp_path: Path) -> None:
    llm = llm_for(prompted_server, tmp_path / "llm", model_name="native/plain")
    prompted_server.native.script.append({"role": "assistant", "content": (
        'Here you go:\n```json\n{"city": "Paris", "temperature": 21}\n```')})
    output = llm("-m", "jackfield-model", "--no-stream", "--schema", "city, temperature int",
                 "The weather in Paris")
    assert json.loads(output) == {"city": "Paris", "temperature": 21}
    assert "response_format" not in prompted_server.sent()
    assert prompted_server.last_chat().emulated() == {"json"}


def test_no_stream_against_a_provider_without_usage(aichats_server: LiveServer,
                                                    tmp_path: Path) -> None:
    # AiChats reports no token counts: the server estimates them, and llm --no-stream, which
    # reads usage from every reply, logs them.
    llm = llm_for(aichats_server, tmp_path / "llm", model_name="aichats/gpt-4")
    output = llm("-m", "jackfield-model", "--no-stream", "hello there")
    assert output.startswith("Hello from the AiChats emulator. You said:")
    [logged] = json.loads(llm("logs", "--json", "-n", "1"))
    assert logged["input_tokens"] > 0 and logged["output_tokens"] > 0, logged
