"""The pacer hands out send slots 1/rate apart, per sending number, in-process or via Redis.
The slots are checked, not wall-clock durations."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from stadtbote.channels import pacing


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    recorded: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(pacing.asyncio, "sleep", fake_sleep)
    return recorded


def test_local_slots_are_one_interval_apart(monkeypatch, sleeps):
    monkeypatch.setattr(pacing.time, "monotonic", lambda: 100.0)
    pacer = pacing.LocalPacer(rate=80)

    async def go():
        for _ in range(5):
            await pacer.acquire("number-1")

    asyncio.run(go())
    assert sleeps == pytest.approx([0.0125, 0.025, 0.0375, 0.05])


def test_local_numbers_are_paced_independently(monkeypatch, sleeps):
    monkeypatch.setattr(pacing.time, "monotonic", lambda: 5.0)
    pacer = pacing.LocalPacer(rate=10)

    async def go():
        await pacer.acquire("a")
        await pacer.acquire("b")
        await pacer.acquire("a")

    asyncio.run(go())
    assert sleeps == pytest.approx([0.1])


def test_rate_zero_turns_pacing_off(sleeps):
    asyncio.run(pacing.LocalPacer(rate=0).acquire("a"))
    assert sleeps == []


@pytest.mark.redis
def test_redis_slots_are_shared_and_one_interval_apart(sleeps):
    import redis.asyncio as aioredis

    from tests import conftest

    async def go() -> list[int]:
        client = aioredis.from_url(conftest.REDIS_URL)
        await client.delete("test:pace:n1")
        # Two pacers stand for two worker processes sharing one number. At one message per
        # second every call here comes well within the interval, so each reserves the next slot.
        first = pacing.RedisPacer(client, rate=1, prefix="test:pace:")
        second = pacing.RedisPacer(client, rate=1, prefix="test:pace:")
        schedule = []
        for pacer in (first, second, first, second):
            await pacer.acquire("n1")
            schedule.append(int(await client.get("test:pace:n1")))
        await client.aclose()
        return schedule

    schedule = asyncio.run(go())
    assert [b - a for a, b in itertools.pairwise(schedule)] == [1_000_000] * 3
    assert len(sleeps) == 3
    for wait, ideal in zip(sleeps, [1.0, 2.0, 3.0], strict=True):
        assert ideal - 0.5 < wait <= ideal


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_late_sender_makes_up_the_slots_it_missed(monkeypatch, sleeps):
    clock = Clock(100.0)
    monkeypatch.setattr(pacing.time, "monotonic", clock)
    pacer = pacing.LocalPacer(rate=100, catch_up=0.05)

    async def go():
        await pacer.acquire("n")  # slot 100.00, the next is 100.01
        clock.now = 100.045  # woke up late: the slots .01 to .04 passed unused
        for _ in range(4):
            await pacer.acquire("n")  # all due now
        await pacer.acquire("n")  # then the schedule goes on: 100.05

    asyncio.run(go())
    assert sleeps == pytest.approx([0.005])


def test_slots_missed_longer_ago_than_the_catch_up_are_lost(monkeypatch, sleeps):
    clock = Clock(100.0)
    monkeypatch.setattr(pacing.time, "monotonic", clock)
    pacer = pacing.LocalPacer(rate=100, catch_up=0.05)

    async def go():
        await pacer.acquire("n")
        clock.now = 200.0  # idle for a long time: at most 50 ms' worth go out at once
        for _ in range(6):
            await pacer.acquire("n")
        await pacer.acquire("n")

    asyncio.run(go())
    assert sleeps == pytest.approx([0.01])


@pytest.mark.redis
def test_at_high_rates_one_redis_round_trip_reserves_several_slots(sleeps):
    import redis.asyncio as aioredis

    from tests import conftest

    async def go() -> int:
        client = aioredis.from_url(conftest.REDIS_URL)
        await client.delete("test:pace:n2")
        pacer = pacing.RedisPacer(client, rate=1000, prefix="test:pace:")
        calls = 0
        script = pacer._script

        async def counted(**kwargs):
            nonlocal calls
            calls += 1
            return await script(**kwargs)

        pacer._script = counted
        for _ in range(16):
            await pacer.acquire("n2")
        await client.aclose()
        return calls

    # Ten milliseconds' worth at 1,000/s: 8 slots (LEASE_SLOTS) per round trip.
    assert asyncio.run(go()) == 16 // pacing.LEASE_SLOTS
