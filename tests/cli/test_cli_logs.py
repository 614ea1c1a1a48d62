"""The log of `jackfield chat` / `jackfield image` calls, conversations, `jackfield logs`."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import Any

from cli_helpers import Emulators, clean_environ, held_chat, one_error_line

from echoing import SECRET, echoing_app, leaks
from jackfield._cli.logstore import LogStore
from jackfield.testing import STATS_KEY

REPLY = "Hello from the AmigoChat emulator (gpt-4o-2024-11-20). You said: "


async def logged(emulators: Emulators, *args: str) -> list[dict[str, Any]]:
    """Return `jackfield logs --json ARGS` (asserting it succeeded)."""
    result = await emulators.run("logs", "--json", *args)
    assert result.returncode == 0, result.stderr
    entries: list[dict[str, Any]] = json.loads(result.stdout)
    return entries


async def test_a_chat_is_logged_with_everything_about_it(emulators: Emulators,
                                                         _logs_in_tmp_path: Path) -> None:
    result = await emulators.run("chat", "-m", "gpt-4o", "-s", "be brief",
                                 "-o", "temperature=0.25", "hi there")
    assert result.returncode == 0, result.stderr
    [entry] = await logged(emulators)
    assert entry["prompt"] == "hi there" and entry["system"] == "be brief"
    assert entry["reply"] == result.stdout.rstrip("\n")
    assert entry["model"] == "gpt-4o" and entry["provider"] == "amigochat"
    assert entry["options"] == {"temperature": 0.25}
    assert entry["duration_ms"] > 0 and entry["error"] is None and entry["warnings"] == []
    assert set(entry["usage"] or {}) <= {"prompt_tokens", "completion_tokens", "total_tokens"}
    assert _logs_in_tmp_path.is_file()  # JACKFIELD_LOGS names the file; nothing elsewhere
    text = await emulators.run("logs")
    assert "gpt-4o via amigochat" in text.stdout and "> hi there" in text.stdout
    assert entry["reply"] in text.stdout and f"cid {entry['cid']}" in text.stdout


async def test_continue_sends_the_history_and_keeps_the_model(emulators: Emulators) -> None:
    first = await emulators.run("chat", "-m", "gpt-4o", "-s", "be brief", "first question")
    assert first.returncode == 0, first.stderr
    second = await emulators.run("chat", "-c", "second question")  # no -m: the conversation's
    assert second.returncode == 0, second.stderr
    assert emulators.amigochat[STATS_KEY].last_json["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": REPLY + "first question"},
        {"role": "user", "content": "second question"},
    ]
    older, newer = await logged(emulators)  # oldest first, as a conversation reads
    assert older["cid"] == newer["cid"] and newer["model"] == "gpt-4o"
    assert newer["prompt"] == "second question"


async def test_cid_continues_a_given_conversation(emulators: Emulators,
                                                  tmp_path: Path) -> None:
    for prompt in ("about cats", "about dogs"):
        result = await emulators.run("chat", "-m", "gpt-4o", "--no-stream", prompt)
        assert result.returncode == 0, result.stderr
    cats, dogs = await logged(emulators)
    assert cats["cid"] != dogs["cid"]  # each chat without -c starts a conversation
    again = await emulators.run("chat", "--cid", cats["cid"], "more")
    assert again.returncode == 0, again.stderr
    sent = emulators.amigochat[STATS_KEY].last_json["messages"]
    assert [m["content"] for m in sent] == ["about cats", REPLY + "about cats", "more"]
    assert [e["prompt"] for e in await logged(emulators, "--cid", cats["cid"])] == [
        "about cats", "more"]
    unknown = await emulators.run("chat", "--cid", "nope", "hi")
    assert unknown.returncode == 1 and "no conversation 'nope'" in one_error_line(unknown)
    nothing = await emulators.run("chat", "-c", "hi", environ={
        **emulators.environ, "JACKFIELD_LOGS": str(tmp_path / "fresh.db")})
    assert nothing.returncode == 2 and "no conversation to continue" in one_error_line(nothing)


async def test_logs_search_finds_words_in_prompts_and_replies(emulators: Emulators) -> None:
    for prompt in ("a lighthouse at dusk", "a quiet harbour", "lighthouse keepers"):
        result = await emulators.run("chat", "-m", "gpt-4o", prompt)
        assert result.returncode == 0, result.stderr
    found = await logged(emulators, "-q", "lighthouse", "-n", "10")
    assert sorted(e["prompt"] for e in found) == ["a lighthouse at dusk", "lighthouse keepers"]
    assert [e["prompt"] for e in await logged(emulators, "-q", 'harbour"')] == [
        "a quiet harbour"]  # FTS5 syntax in the text is taken literally
    assert len(await logged(emulators, "-n", "2")) == 2
    assert len(await logged(emulators, "-n", "0")) == 3
    none = await emulators.run("logs", "-q", "submarine")
    assert none.returncode == 0 and "no responses match" in none.stdout


async def test_chat_json_is_one_object(emulators: Emulators) -> None:
    result = await emulators.run("chat", "-m", "gpt-4o", "--json", "hi")
    assert result.returncode == 0, result.stderr
    reply = json.loads(result.stdout)
    assert set(reply) == {"text", "reasoning", "usage", "model", "provider", "warnings", "cid"}
    assert reply["text"] == REPLY + "hi" and reply["provider"] == "amigochat"
    assert reply["model"].startswith("gpt-4o") and reply["warnings"] == []
    [entry] = await logged(emulators)
    assert entry["cid"] == reply["cid"]
    unlogged = json.loads((await emulators.run("chat", "-m", "gpt-4o", "--json", "--no-log",
                                               "hi")).stdout)
    assert unlogged["cid"] is None


async def test_no_log_and_logs_off(emulators: Emulators, _logs_in_tmp_path: Path) -> None:
    result = await emulators.run("chat", "-m", "gpt-4o", "--no-log", "hi")
    assert result.returncode == 0, result.stderr
    assert not _logs_in_tmp_path.exists()
    path = await emulators.run("logs", "path")
    assert path.stdout.strip() == str(_logs_in_tmp_path)
    assert (await emulators.run("logs", "off")).returncode == 0
    await emulators.run("chat", "-m", "gpt-4o", "while off")
    cont = await emulators.run("chat", "-c", "while off")
    assert cont.returncode == 2 and "no conversation to continue" in one_error_line(cont)
    assert not _logs_in_tmp_path.exists()  # not even made empty by -c
    listing = await emulators.run("logs")
    assert "logging is off" in listing.stderr
    assert (await emulators.run("logs", "on")).returncode == 0
    await emulators.run("chat", "-m", "gpt-4o", "back on")
    assert [e["prompt"] for e in await logged(emulators)] == ["back on"]


async def test_image_files_are_kept_next_to_the_log(emulators: Emulators, tmp_path: Path,
                                                    _logs_in_tmp_path: Path) -> None:
    result = await emulators.run("image", "-m", "dalle", "--dir", str(tmp_path / "out"),
                                 "a red lighthouse")
    assert result.returncode == 0, result.stderr
    [saved] = result.stdout.splitlines()
    [entry] = await logged(emulators)
    [kept] = entry["images"]
    assert Path(kept).parent == _logs_in_tmp_path.parent / "images"
    assert Path(kept).name.startswith(entry["id"]) and Path(kept).suffix == ".png"
    assert Path(kept).read_bytes() == Path(saved).read_bytes()
    assert entry["model"] == "dalle" and entry["prompt"] == "a red lighthouse"
    assert "image: " + kept in (await emulators.run("logs")).stdout


async def test_secrets_never_reach_the_log_file(serve_app: Any, emulators: Emulators,
                                                _logs_in_tmp_path: Path) -> None:
    url = await serve_app(echoing_app(500))  # an error page that quotes our headers
    environ = clean_environ({"JACKFIELD_AMIGOCHAT_BASE_URL": url,
                             "JACKFIELD_AMIGOCHAT_TOKEN": SECRET})
    failed = await emulators.run("chat", "-m", "amigochat/gpt-4o", "hi", environ=environ)
    assert failed.returncode == 1
    refused = await emulators.run("chat", "-m", "gpt-4o", "-o", f"api_key={SECRET}",
                                  "-o", f"note=sent {SECRET}", "hi",
                                  environ={**emulators.environ,
                                           "JACKFIELD_AMIGOCHAT_TOKEN": SECRET})
    assert refused.returncode == 2
    entries = await logged(emulators)
    assert [e["error"] is not None for e in entries] == [True, True]
    assert "HTTP 500" in entries[0]["error"] and "***" in entries[0]["error"]
    assert entries[1]["options"] == {"api_key": "***", "note": "sent ***"}
    files = list(_logs_in_tmp_path.parent.rglob("*"))
    assert files and all(leaks(f.read_bytes().decode("latin-1")) == [] for f in files
                         if f.is_file())


def test_store_masks_secret_options_without_a_registry(tmp_path: Path) -> None:
    with LogStore.open(tmp_path / "logs.db") as store:
        cid = store.new_conversation("m")
        store.record(cid, prompt="p", system=None, model="m", provider=None,
                     options={"max_tokens": 5, "access-token": "x" * 12, "x": SECRET},
                     reply=None, usage=None, duration_ms=1.0, error=f"said {SECRET}",
                     secrets=[SECRET])
        [entry] = store.search(None, limit=1)
    assert entry.options == {"max_tokens": 5, "access-token": "***", "x": "***"}
    assert entry.error == "said ***"


async def test_a_reply_cut_by_ctrl_c_is_logged_as_far_as_it_came(emulators: Emulators) -> None:
    process = await held_chat(emulators)
    process.send_signal(signal.SIGINT)
    await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 130
    [entry] = await logged(emulators)
    assert entry["error"] == "interrupted" and entry["reply"].startswith("Hello")
    assert entry["provider"] == "aichats"
