"""Status timers that cost O(1) per message instead of a task or a heap entry each.

Every accepted send needs two or three timers (sent, delivered, read) with the same delay for
every message, so the timers of one step fall due in the order they were set. A FIFO queue per
(step, delay) with a single loop timer for its head replaces thousands of timer handles in the
event loop's heap (whose ordering is a Python-level comparison per swap) at high send rates.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Hashable
from typing import Any

logger = logging.getLogger(__name__)

# asyncio runs a timer when it is due within the clock's resolution; so do the queues.
_EARLY = 1e-6


class FifoTimers:
    def __init__(self) -> None:
        self._queues: dict[Hashable, deque[tuple[float, Callable[..., None], tuple[Any, ...]]]] = {}
        self._armed: set[Hashable] = set()

    def call_at(
        self, key: Hashable, when: float, callback: Callable[..., None], *args: Any
    ) -> None:
        """Run ``callback(*args)`` at loop time ``when``; calls under one key must be set in
        the order they fall due (a later one set earlier only waits for it)."""
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = deque()
        queue.append((when, callback, args))
        if key not in self._armed:
            self._armed.add(key)
            asyncio.get_running_loop().call_at(when, self._fire, key)

    def clear(self) -> None:
        """Forget every pending call; the loop timers still armed find nothing to do."""
        for queue in self._queues.values():
            queue.clear()

    @property
    def pending(self) -> int:
        return sum(len(queue) for queue in self._queues.values())

    def _fire(self, key: Hashable) -> None:
        loop = asyncio.get_running_loop()
        queue = self._queues[key]
        now = loop.time() + _EARLY
        while queue and queue[0][0] <= now:
            _, callback, args = queue.popleft()
            try:
                callback(*args)
            except Exception:
                # One broken timeline must not stop the statuses of every other message.
                logger.exception("A status timer failed")
        if queue:
            loop.call_at(queue[0][0], self._fire, key)
        else:
            self._armed.discard(key)
