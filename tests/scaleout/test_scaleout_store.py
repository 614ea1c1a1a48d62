"""SharedStore.call() against a cancel: a task cancelled while its Redis call returns must end.

On Python 3.11, asyncio.wait_for() returns the inner answer when the caller is cancelled in
the same loop turn as that answer arrives, and the cancel is lost. HealthSync's pump then went
back to waiting for its next event instead of ending, and aclose() (so the server's shutdown,
and CI's teardown under redis-py 8.2) waited for it forever.
"""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Any

import pytest
from scaleout_helpers import RedisServer

from jackfield._shared.store import SharedStore


async def test_a_cancel_that_arrives_with_the_answer_is_kept() -> None:
    store = SharedStore("redis://127.0.0.1:1/0")  # never dialled: the operation ignores it
    answer: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    after_call: list[str] = []

    async def operation(_redis: Any) -> int:
        return await answer

    async def caller() -> None:
        await store.call(operation)
        after_call.append("went on")  # a lost cancel: the task would wait below for ever
        await asyncio.Event().wait()

    task = asyncio.create_task(caller())
    await asyncio.sleep(0)  # the caller is inside call(), waiting for the answer
    await asyncio.sleep(0)
    answer.set_result(1)  # the answer lands ...
    task.cancel()         # ... in the same loop turn as the cancel
    done, _ = await asyncio.wait({task}, timeout=2)
    assert done == {task} and task.cancelled(), f"the cancel was lost: {after_call}"
    assert after_call == []
    await store.aclose()


async def test_a_cancel_at_any_point_of_a_real_redis_call_ends_the_task(
        redis_server: RedisServer) -> None:
    """Cancelled after 0 to 29 loop turns, a DEL through the store must end its task: with
    redis-py's socket timeout set, its own wait_for around the send lost the cancel after 1,
    2 or 3 turns, every time."""
    store = SharedStore(redis_server.url)

    async def forget(redis: Any) -> Any:
        return await redis.delete("a", "b")

    assert await store.call(forget) == 0  # connected
    lost = []
    for turns in range(30):
        async def caller() -> None:
            await store.call(forget)
            await asyncio.Event().wait()  # only a lost cancel gets here

        task = asyncio.create_task(caller())
        for _ in range(turns):
            await asyncio.sleep(0)
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=2)
        if done != {task}:
            lost.append(turns)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert lost == [], f"cancels lost after these many loop turns: {lost}"
    assert store.up
    await store.aclose()


async def test_a_stalled_redis_costs_a_call_the_timeout_and_no_more(
        redis_server: RedisServer) -> None:
    """The client has no socket timeout of its own: a Redis that stops answering (SIGSTOP,
    the connection open) must still cost a call only the store's timeout."""
    store = SharedStore(redis_server.url, timeout=0.2, probe_interval=0.2)

    async def count(redis: Any) -> Any:
        return await redis.incr("calls")

    assert await store.call(count) == 1
    assert redis_server.process is not None
    redis_server.process.send_signal(signal.SIGSTOP)
    try:
        began = time.monotonic()
        assert await store.call(count) is None
        assert time.monotonic() - began < 1.0
        assert store.up is False and store.last_failure == "TimeoutError"
    finally:
        redis_server.process.send_signal(signal.SIGCONT)
    for _ in range(50):  # the probe finds it again
        if store.up:
            break
        await asyncio.sleep(0.1)
    assert store.up and await store.call(count) is not None
    await store.aclose()


async def test_a_call_that_outlives_the_timeout_marks_the_store_down() -> None:
    store = SharedStore("redis://127.0.0.1:1/0", timeout=0.01, probe_interval=60)

    async def operation(_redis: Any) -> int:
        await asyncio.sleep(1)
        return 1

    assert await store.call(operation) is None
    assert store.up is False and store.last_failure == "TimeoutError"
    await store.aclose()


@pytest.mark.parametrize("rounds", [1, 5])
async def test_a_cancelled_call_propagates_the_cancel(rounds: int) -> None:
    store = SharedStore("redis://127.0.0.1:1/0")

    async def operation(_redis: Any) -> int:
        for _ in range(rounds):
            await asyncio.sleep(0)
        await asyncio.Event().wait()
        return 1

    task = asyncio.create_task(store.call(operation))
    for _ in range(rounds + 1):
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert store.up is True  # a cancel is not an outage
    await store.aclose()
