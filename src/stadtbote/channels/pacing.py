"""Pacing sends per sending number: a leaky bucket by virtual scheduling (GCRA).

Every caller reserves the next free slot, `1/rate` seconds after the previous one, and sleeps
until it. Unlike a fixed window this never bunches sends at window edges, so Meta's per-number
throughput (130429) is not hit in normal operation. In-process when embedded; in Redis when
several workers on several machines share one number.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

import redis.asyncio as aioredis


class Pacer(Protocol):
    async def acquire(self, key: str) -> None: ...


class LocalPacer:
    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._next: dict[str, float] = {}

    async def acquire(self, key: str) -> None:
        if not self._interval:
            return
        # One event loop per process runs all sends, so no lock is needed between these lines.
        now = time.monotonic()
        slot = max(self._next.get(key, now), now)
        self._next[key] = slot + self._interval
        if slot > now:
            await asyncio.sleep(slot - now)


# Reserves a slot on the shared schedule; Redis's clock is the one clock all workers agree on.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < now then slot = now end
redis.call('SET', KEYS[1], slot + interval, 'PX', math.floor((slot + interval - now) / 1000) + 1000)
return slot - now
"""


class RedisPacer:
    def __init__(
        self, client: aioredis.Redis, rate: float, prefix: str = "stadtbote:pace:"
    ) -> None:
        self._client = client
        self._interval_us = int(1_000_000 / rate) if rate > 0 else 0
        self._prefix = prefix
        self._script = client.register_script(_RESERVE)

    async def acquire(self, key: str) -> None:
        if not self._interval_us:
            return
        wait_us = int(await self._script(keys=[self._prefix + key], args=[self._interval_us]))
        if wait_us > 0:
            await asyncio.sleep(wait_us / 1_000_000)
