"""Pacing sends per sending number: a leaky bucket by virtual scheduling (GCRA).

Every caller reserves the next free slot, `1/rate` seconds after the previous one, and sleeps
until it. Unlike a fixed window this never bunches sends at window edges, so Meta's per-number
throughput (130429) is not hit in normal operation. In-process when embedded; in Redis when
several workers on several machines share one number.

A sender that wakes up late (a busy event loop, a pause for the garbage collector) would lose
its slot for good and fall below the rate. The schedule therefore may lag behind the clock by
up to `CATCH_UP` seconds: slots that passed unused within that time are still handed out, at
once, so the lost time is made up. That allows a burst of at most `CATCH_UP * rate` sends,
well inside the one second's worth Meta's bucket absorbs.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Protocol

import redis.asyncio as aioredis

CATCH_UP = 0.1  # seconds of unused schedule a late sender may still use
# Slots one Redis round trip reserves at most (a round trip per send would cost as much CPU
# as the send itself at 1,000/s); at most LEASE seconds' worth, so that other processes'
# urgent sends are not queued behind long reservations.
LEASE_SLOTS = 8
LEASE = 0.01


class Pacer(Protocol):
    async def acquire(self, key: str) -> None: ...


class LocalPacer:
    def __init__(self, rate: float, *, catch_up: float = CATCH_UP) -> None:
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._catch_up = catch_up
        self._next: dict[str, float] = {}

    async def acquire(self, key: str) -> None:
        if not self._interval:
            return
        # One event loop per process runs all sends, so no lock is needed between these lines.
        now = time.monotonic()
        scheduled = self._next.get(key)
        slot = now if scheduled is None else max(scheduled, now - self._catch_up)
        self._next[key] = slot + self._interval
        if slot > now:
            await asyncio.sleep(slot - now)


# Reserves `count` consecutive slots on the shared schedule and returns how many microseconds
# from now the first one is (negative: it is already due). Redis's clock is the one clock all
# workers agree on. The key lives a little longer than the schedule it holds.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local count = tonumber(ARGV[2])
local catch_up = tonumber(ARGV[3])
local scheduled = redis.call('GET', KEYS[1])
local slot = now
if scheduled then slot = math.max(tonumber(scheduled), now - catch_up) end
local after = slot + interval * count
redis.call('SET', KEYS[1], after, 'PX', math.floor((after - now) / 1000) + 1000)
return slot - now
"""


class RedisPacer:
    def __init__(
        self,
        client: aioredis.Redis,
        rate: float,
        prefix: str = "stadtbote:pace:",
        *,
        catch_up: float = CATCH_UP,
    ) -> None:
        self._client = client
        self._interval_us = int(1_000_000 / rate) if rate > 0 else 0
        self._prefix = prefix
        self._catch_up_us = int(catch_up * 1_000_000)
        self._script = client.register_script(_RESERVE)
        # Enough slots per round trip to cover LEASE seconds, never fewer than one.
        self._lease = max(1, min(LEASE_SLOTS, int(rate * LEASE))) if rate > 0 else 0
        self._leased: dict[str, deque[float]] = {}

    async def acquire(self, key: str) -> None:
        if not self._interval_us:
            return
        leased = self._leased.setdefault(key, deque())
        # Slots leased long ago (the stream ran dry meanwhile) are dropped, not sent in a burst.
        stale = time.monotonic() - self._catch_up_us / 1_000_000
        while leased and leased[0] < stale:
            leased.popleft()
        if not leased:
            first_us = int(
                await self._script(
                    keys=[self._prefix + key],
                    args=[self._interval_us, self._lease, self._catch_up_us],
                )
            )
            now = time.monotonic()
            leased.extend(
                now + (first_us + n * self._interval_us) / 1_000_000 for n in range(self._lease)
            )
        wait = leased.popleft() - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
