"""At most one waiting job per kind of work.

Jobs like "apply stored webhooks" take every pending row, so one job in the queue serves any
number of triggers. A flag in huey's storage marks that one is waiting; the job clears it when
it starts, so a trigger arriving while it runs schedules the next one. Without this, a burst
of 1,500 webhooks left about 1,000 empty jobs behind (docs/benchmarks.md), each taking
SQLite's write lock. The periodic sweeps clear the flags too, so a job lost with a crashed
worker cannot block scheduling for longer than a minute.
"""

from __future__ import annotations

from typing import Any, Protocol

from huey.contrib.djhuey import HUEY


class Job(Protocol):
    def __call__(self) -> Any: ...


def schedule_once(flag: str, job: Job) -> bool:
    """Queue `job` unless one is already waiting; returns whether it was queued."""
    if HUEY.put_if_empty(flag, "1"):
        job()
        return True
    return False


def started(flag: str) -> None:
    """Called first thing in the job (and by sweeps): later triggers schedule a new run."""
    HUEY.delete(flag)
