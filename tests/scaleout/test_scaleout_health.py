"""Cooldowns shared through a real Redis between two servers, and Redis going away mid-load."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import aiohttp
import pytest
from scaleout_helpers import RedisServer, chat, health, until

from nativeprovider import NativeServer


async def test_a_provider_failing_through_one_instance_cools_down_in_the_other(
        redis_server: RedisServer, instance: Any, native_server: NativeServer) -> None:
    first, _ = await instance(redis_url=redis_server.url)
    second, second_registry = await instance(redis_url=redis_server.url)
    native_server.fail = [503, 503]
    async with aiohttp.ClientSession() as session:
        for _ in range(2):
            status, _, _ = await chat(session, first)
            assert status == 502
        failed = time.monotonic()

        async def cooling() -> bool:
            report = await health(session, second)
            return bool(report["providers"]["native"]["cooling_down"])

        await until(cooling)
        # Documented: within the 0.5 s poll plus two Redis round trips; generous here.
        assert time.monotonic() - failed < 10
        report = await health(session, second)
        assert report["redis"]["status"] == "ok" and "127.0.0.1" in report["redis"]["url"]
        assert report["providers"]["native"]["failures"] == 0  # counts stay per process
        assert 0 < second_registry.health()["native"].cooldown_remaining <= 30
        # A success anywhere ends it everywhere: the first instance's call gets through
        # (its only provider is tried even while cooling) and deletes the shared cooldown.
        status, _, _ = await chat(session, first)
        assert status == 200

        async def recovered() -> bool:
            return not (await health(session, second))["providers"]["native"]["cooling_down"]

        await until(recovered)


async def test_failures_through_two_instances_add_up_to_one_cooldown(
        redis_server: RedisServer, instance: Any, native_server: NativeServer) -> None:
    first, first_registry = await instance(redis_url=redis_server.url)
    second, second_registry = await instance(redis_url=redis_server.url)
    native_server.fail = [503, 503]
    async with aiohttp.ClientSession() as session:
        assert (await chat(session, first))[0] == 502
        # Wait for the first failure to be counted in Redis before the second one.
        async def counted() -> bool:
            from redis.asyncio import Redis

            async with Redis.from_url(redis_server.url) as client:
                return bool(await client.get("jackfield:health:failures:native"))

        await until(counted)
        assert (await chat(session, second))[0] == 502

        async def both_cooling() -> bool:
            return all(r.health()["native"].cooling_down
                       for r in (first_registry, second_registry))

        await until(both_cooling)
    # Each book saw one failure only: without Redis neither would be cooling down.
    assert first_registry.health()["native"].consecutive_failures == 1
    assert second_registry.health()["native"].consecutive_failures == 1


async def test_without_redis_each_instance_keeps_its_own_health(
        instance: Any, native_server: NativeServer) -> None:
    first, first_registry = await instance()
    second, second_registry = await instance()
    native_server.fail = [503, 503]
    async with aiohttp.ClientSession() as session:
        for _ in range(2):
            assert (await chat(session, first))[0] == 502
        assert first_registry.health()["native"].cooling_down
        report = await health(session, second)
    assert "redis" not in report and not report["providers"]["native"]["cooling_down"]
    assert not second_registry.health()["native"].cooling_down


async def test_redis_killed_mid_load_fails_no_request_and_sharing_resumes(
        redis_server: RedisServer, instance: Any, native_server: NativeServer,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "jackfield._server")
    first, _ = await instance(redis_url=redis_server.url)
    second, second_registry = await instance(redis_url=redis_server.url)
    statuses: list[int] = []
    async with aiohttp.ClientSession() as session:
        async def load(url: str, calls: int) -> None:
            for _ in range(calls):
                statuses.append((await chat(session, url))[0])

        async def half_done() -> bool:
            return len(statuses) >= 40

        clients = [asyncio.create_task(load(url, 40)) for url in (first, second) * 2]
        await until(half_done)
        redis_server.stop()  # mid-load: the servers find out on their next Redis call

        async def down() -> bool:
            return (await health(session, second))["redis"]["status"] == "unavailable"

        await until(down)
        report = await health(session, second)
        assert report["status"] == "degraded" and report["redis"]["error"]
        await asyncio.wait_for(asyncio.gather(*clients), 120)
        assert statuses == [200] * 160  # not one request failed because Redis did
        warnings = [r for r in caplog.records if "not answering" in r.getMessage()]
        assert len(warnings) == 2  # once per outage and process (two servers here)
        redis_server.start()

        async def up() -> bool:
            return (await health(session, second))["redis"]["status"] == "ok"

        await until(up)
        assert any("answers again" in r.getMessage() for r in caplog.records)
        native_server.fail = [503, 503]
        for _ in range(2):
            assert (await chat(session, first))[0] == 502

        async def cooling() -> bool:
            return second_registry.health()["native"].cooling_down

        await until(cooling)  # sharing resumed after the outage


async def test_a_cooldown_begun_during_an_outage_is_shared_once_redis_is_back(
        redis_server: RedisServer, instance: Any, native_server: NativeServer) -> None:
    first, first_registry = await instance(redis_url=redis_server.url)
    _, second_registry = await instance(redis_url=redis_server.url)
    async with aiohttp.ClientSession() as session:
        redis_server.stop()
        native_server.fail = [503, 503]
        for _ in range(2):
            assert (await chat(session, first))[0] == 502
        assert first_registry.health()["native"].cooling_down
        assert not second_registry.health()["native"].cooling_down
        redis_server.start()

        async def cooling() -> bool:
            await health(session, first)  # not needed for the probe; keeps the loop busy
            return second_registry.health()["native"].cooling_down

        await until(cooling, 30)
