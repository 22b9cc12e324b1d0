"""Token buckets for Meta's rate limits: per-number throughput (130429) and pair rate (131056)."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """Allows ``rate`` sends per second on average and bursts of up to ``capacity`` sends.

    The bucket starts full, so a client may send a full burst at once, as Meta allows. Without
    a capacity the burst is one second's worth (``rate``), Meta's throughput model.
    """

    __slots__ = ("_capacity", "_clock", "_rate", "_tokens", "_updated")

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        capacity: float | None = None,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        capacity = float(rate) if capacity is None else float(capacity)
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._rate = float(rate)
        self._capacity = capacity
        self._clock = clock
        self._tokens = capacity
        self._updated = clock()

    def try_take(self) -> bool:
        now = self._clock()
        # A clock that went back (it should not) must not drain the bucket.
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self._capacity, self._tokens + elapsed * self._rate)
        self._updated = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    def wait_time(self) -> float:
        """Seconds until the next send would pass (0 if it would pass now)."""
        now = self._clock()
        tokens = min(self._capacity, self._tokens + max(0.0, now - self._updated) * self._rate)
        return 0.0 if tokens >= 1 else (1 - tokens) / self._rate
