"""The emulator's sense of time, which tests can move forward.

Everything that Meta measures in hours or days reads this clock: webhook timestamps, the
24-hour customer service window, the rolling 24 hours of the messaging limit and the marketing
cap, and the token buckets of the rate limits. A test that needs "25 hours later" advances the
clock instead of waiting; the delays between statuses (milliseconds to seconds) stay real
``asyncio`` sleeps.

By default the clock is real time plus the sum of all advances. A frozen clock stands still at
a given Unix time and moves only when advanced, so rate limits become fully deterministic.
"""

from __future__ import annotations

import math
import time

# Far enough for any test ("in ten years"), small enough that timestamps stay sane.
MAX_ADVANCE = 10 * 366 * 24 * 3600.0


class Clock:
    def __init__(self, frozen_at: float | None = None) -> None:
        self._frozen_at = frozen_at
        # A frozen clock's monotonic reading starts at the real one, so both kinds are alike.
        self._frozen_monotonic = time.monotonic()
        self._offset = 0.0

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    @property
    def offset(self) -> float:
        """Seconds this clock has been advanced in total."""
        return self._offset

    def time(self) -> float:
        """Unix time in seconds, as the emulator sees it."""
        base = time.time() if self._frozen_at is None else self._frozen_at
        return base + self._offset

    def timestamp(self) -> int:
        """Whole Unix seconds, the unit of every timestamp in Meta's payloads."""
        return int(self.time())

    def monotonic(self) -> float:
        """A reading that never goes back; differences are seconds. For rate limits."""
        base = time.monotonic() if self._frozen_at is None else self._frozen_monotonic
        return base + self._offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward; it never goes back."""
        if not (math.isfinite(seconds) and 0 <= seconds <= MAX_ADVANCE):
            raise ValueError(f"seconds must be between 0 and {MAX_ADVANCE:.0f}")
        self._offset += seconds

    def reset(self) -> None:
        """Back to the start: real time again, or the frozen time."""
        self._offset = 0.0

    def to_json(self) -> dict[str, float | int | bool]:
        now = self.time()
        return {
            "time": now,
            "timestamp": int(now),
            "offset": self._offset,
            "frozen": self.frozen,
        }
