"""Named server keys: hashed, by Bearer or x-api-key, names in the log, limits across two
instances through Redis (and per process without), allow-lists, 429 with Retry-After."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from scaleout_helpers import RedisServer, chat, health, until

from jackfield._server.key_limits import REFUSAL_LISTENERS
from jackfield._server.server_keys import ServerKey, add_key, hash_key, read_keys_file
from nativeprovider import NativeServer

ALICE, BOB = "jfk-alice-secret-0123456789", "jfk-bob-secret-9876543210"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def keys(**alice: Any) -> list[ServerKey]:
    return [ServerKey("alice", hash_key(ALICE), **alice), ServerKey("bob", hash_key(BOB))]


async def test_named_keys_by_bearer_or_x_api_key_and_only_their_names_are_logged(
        instance: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "jackfield.access")
    url, _ = await instance(server_keys=keys(), api_key="single-key-still-works")
    async with aiohttp.ClientSession() as session:
        assert (await chat(session, url, headers=bearer(ALICE)))[0] == 200
        assert (await chat(session, url, headers={"x-api-key": BOB}))[0] == 200
        assert (await chat(session, url, headers=bearer("single-key-still-works")))[0] == 200
        status, reply, _ = await chat(session, url, headers=bearer(ALICE + "x"))
        assert status == 401 and reply["error"]["code"] == "invalid_api_key"
        assert (await chat(session, url))[0] == 401
        shown = await health(session, url)  # withheld error text without a key, as before
    assert shown["status"] == "ok"
    lines = [r.getMessage() for r in caplog.records if r.name == "jackfield.access"]
    chats = [line for line in lines if line.startswith("POST")]
    assert [line.rsplit(" ", 1)[1] for line in chats] == [
        "key=alice", "key=bob", "key=api-key", "key=-", "key=-"]
    text = "\n".join(lines)
    assert ALICE not in text and BOB not in text and "single-key-still-works" not in text


async def test_rpm_holds_across_two_instances_with_a_429_in_openais_shape(
        redis_server: RedisServer, instance: Any) -> None:
    refusals: list[tuple[str, str]] = []
    REFUSAL_LISTENERS.append(lambda name, limit: refusals.append((name, limit)))
    try:
        first, _ = await instance(server_keys=keys(rpm=3), redis_url=redis_server.url)
        second, _ = await instance(server_keys=keys(rpm=3), redis_url=redis_server.url)
        async with aiohttp.ClientSession() as session:
            statuses = [(await chat(session, url, headers=bearer(ALICE)))[0]
                        for url in (first, second, first)]
            assert statuses == [200, 200, 200]
            status, reply, headers = await chat(session, second, headers=bearer(ALICE))
            # bob has no limits: alice's count is hers alone
            assert (await chat(session, second, headers=bearer(BOB)))[0] == 200
    finally:
        REFUSAL_LISTENERS.clear()
    assert status == 429
    assert reply["error"]["type"] == "rate_limit_error"
    assert reply["error"]["code"] == "rate_limit_exceeded"
    assert "'alice'" in reply["error"]["message"] and "3 requests per minute" in (
        reply["error"]["message"])
    assert 1 <= int(headers["Retry-After"]) <= 60
    assert refusals == [("alice", "rpm")]


async def test_without_redis_the_rpm_holds_per_process(instance: Any) -> None:
    first, _ = await instance(server_keys=keys(rpm=2))
    second, _ = await instance(server_keys=keys(rpm=2))
    async with aiohttp.ClientSession() as session:
        statuses = [(await chat(session, url, headers=bearer(ALICE)))[0]
                    for url in (first, first, second, second, first)]
    assert statuses == [200, 200, 200, 200, 429]


async def test_tpm_counts_tokens_across_instances(
        redis_server: RedisServer, instance: Any) -> None:
    # The native service reports 8 tokens per call (5 + 3): the third call finds 16 used.
    first, _ = await instance(server_keys=keys(tpm=16), redis_url=redis_server.url)
    second, _ = await instance(server_keys=keys(tpm=16), redis_url=redis_server.url)
    async with aiohttp.ClientSession() as session:
        assert (await chat(session, first, headers=bearer(ALICE)))[0] == 200
        assert (await chat(session, second, headers=bearer(ALICE), stream=True))[0] == 200
        status, reply, headers = await chat(session, first, headers=bearer(ALICE))
    assert status == 429 and "16 tokens per minute" in reply["error"]["message"]
    assert 1 <= int(headers["Retry-After"]) <= 60


async def test_concurrent_calls_are_limited_across_instances(
        redis_server: RedisServer, instance: Any, native_server: NativeServer) -> None:
    first, _ = await instance(server_keys=keys(concurrent=2), redis_url=redis_server.url)
    second, _ = await instance(server_keys=keys(concurrent=2), redis_url=redis_server.url)
    native_server.hold = asyncio.Event()
    async with aiohttp.ClientSession() as session:
        held = [asyncio.create_task(chat(session, url, headers=bearer(ALICE), stream=True))
                for url in (first, second)]

        async def both_in_flight() -> bool:
            return len(native_server.seen) == 2

        await until(both_in_flight)
        status, reply, headers = await chat(session, second, headers=bearer(ALICE))
        assert status == 429 and "2 calls in flight" in reply["error"]["message"]
        assert headers["Retry-After"] == "1"
        native_server.hold.set()
        assert [r[0] for r in await asyncio.wait_for(asyncio.gather(*held), 30)] == [200, 200]
        native_server.hold = None
        # The streams gave their slots back when they ended.
        assert (await chat(session, first, headers=bearer(ALICE)))[0] == 200


async def test_the_model_allow_list_refuses_other_models_with_a_403(instance: Any,
                                                                      native_server: NativeServer
                                                                      ) -> None:
    url, _ = await instance(server_keys=keys(models=("native/pl*",)))
    async with aiohttp.ClientSession() as session:
        status, reply, _ = await chat(session, url, headers=bearer(ALICE))
        assert status == 403 and reply["error"]["code"] == "model_not_allowed"
        assert reply["error"]["param"] == "model" and "native/pl*" in reply["error"]["message"]
        assert native_server.seen == []  # refused before any provider call
        assert (await chat(session, url, headers=bearer(ALICE), model="native/plain"))[0] == 200
        assert (await chat(session, url, headers=bearer(BOB)))[0] == 200  # bob: any model


async def test_a_redis_that_hangs_costs_a_bounded_wait_and_fails_no_request(
        redis_server: RedisServer, instance: Any) -> None:
    url, _ = await instance(server_keys=keys(rpm=1000), redis_url=redis_server.url)
    assert redis_server.process is not None
    async with aiohttp.ClientSession() as session:
        assert (await chat(session, url, headers=bearer(ALICE)))[0] == 200
        redis_server.process.send_signal(19)  # SIGSTOP: connected, and answering nothing
        try:
            started = time.monotonic()
            results = [await chat(session, url, headers=bearer(ALICE)) for _ in range(5)]
            assert [status for status, _, _ in results] == [200] * 5
            # One call waits out the 0.25 s timeout; the rest skip Redis until it is back.
            assert time.monotonic() - started < 10
            assert (await health(session, url))["redis"]["status"] == "unavailable"
        finally:
            redis_server.process.send_signal(18)  # SIGCONT

        async def back() -> bool:
            return (await health(session, url))["redis"]["status"] == "ok"

        await until(back)


def test_add_key_stores_only_its_hash(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    key = add_key(path, "carol", rpm=5, models=["aichats/*"])
    assert key.startswith("jfk-") and len(key) > 40
    assert key not in path.read_text() and hash_key(key) in path.read_text()
    (stored,) = read_keys_file(path)
    assert stored == ServerKey("carol", hash_key(key), rpm=5, models=("aichats/*",))
    assert key not in repr(stored)


async def test_a_429_on_the_messages_api_is_in_anthropics_shape(instance: Any) -> None:
    url, _ = await instance(server_keys=keys(rpm=1))
    body = {"model": "native/omni", "max_tokens": 50,
            "messages": [{"role": "user", "content": "hi"}]}
    headers = {"x-api-key": ALICE, "anthropic-version": "2023-06-01"}
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/v1/messages", json=body, headers=headers) as first:
            assert first.status == 200
        async with session.post(f"{url}/v1/messages", json=body, headers=headers) as second:
            status, reply = second.status, await second.json()
            retry = second.headers["Retry-After"]
    assert status == 429 and 1 <= int(retry) <= 60
    assert reply["type"] == "error" and reply["error"]["type"] == "rate_limit_error"
    assert "1 requests per minute" in reply["error"]["message"]
