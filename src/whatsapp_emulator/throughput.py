"""Meta's per-number throughput limit (error 130429) as a token bucket."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """Allows ``rate`` sends per second on average and bursts of up to ``rate`` sends.

    The bucket starts full, so a client may send one second's worth at once, as Meta allows.
    """

    def __init__(self, rate: int, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._rate = rate
        self._clock = clock
        self._tokens = float(rate)
        self._updated = clock()

    def try_take(self) -> bool:
        now = self._clock()
        self._tokens = min(self._rate, self._tokens + (now - self._updated) * self._rate)
        self._updated = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True
