"""Background jobs for posts. Payloads carry nothing: the rows in the database are the work.

Each worker process sends posts from one dispatcher thread of its own, started (or woken) by
the `dispatch_deliveries` job: when a post starts sending, is resumed, and every minute by the
sweep. The job returns at once, so a post of a million recipients does not hold a huey thread
for hours, and a stopping worker is not kept waiting for it. The thread runs a dispatch
pipeline until nothing is left to claim. Woken while it runs (an urgent post was approved), it
claims at once, and the urgent messages overtake everything queued in the send loop.

With several worker processes (Redis), a busy dispatcher keeps one dispatch job waiting in the
queue, so that the other processes' dispatchers join in and share the work.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import F, Max, Min
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from stadtbote.broadcasts import actions, delivering, templates
from stadtbote.broadcasts.models import Delivery
from stadtbote.channels import dispatch, statuses
from stadtbote.channels.sending import BULK, URGENT
from stadtbote.channels.types import TransportError
from stadtbote.worker import coalesce

BATCH = 200
MIN_BATCH = 10
# A claimed batch covers about this long at the configured rate: small batches when the pace
# is slow, so that a claimed row waits little before it is sent (a Stop in that time is not
# seen), and full ones when it is fast.
BATCH_SECONDS = 0.25
# How long a post with nothing due is left alone before its rows are looked at again, and how
# often a claimer goes back to a post's first row for rows that became due again.
RECHECK = 5.0
RESCAN = 10.0
# Scaled mode: how often a busy dispatcher invites the other processes to join at most.
INVITE_EVERY = 1.0
DISPATCH_WAITING = "stadtbote:dispatch-waiting"
log = logging.getLogger(__name__)


def batch_size() -> int:
    rate = settings.WHATSAPP_MESSAGES_PER_SECOND
    if rate <= 0:
        return BATCH
    return max(MIN_BATCH, min(BATCH, int(rate * BATCH_SECONDS)))


@dataclass
class _Rows:
    """Where a post's rows are: the ids its fan-out got (one statement inserts them all), and
    how far this dispatcher has claimed them."""

    first: int
    last: int
    cursor: int
    rescan_at: float


class Claimer:
    """Claims the next batch of due deliveries: urgent posts' first, then post by post, the
    oldest post first and each in the order of its rows.

    Each claim reads one post's rows only, from where the last one ended: a batch costs the
    same at the end of a post of a million as at its start, and other posts' waiting rows,
    however many, are never read. Rows behind the cursor that become due again (a retry after
    Meta's throttling, the end of a hold) are found by going back to the post's first row
    every RESCAN seconds and whenever the cursor reaches its last row. The post itself is
    matched on `post_id + 0`, an expression no index serves: otherwise the planner, misled by
    statistics from before the fan-out, may sort all the post's rows for every batch.

    A post with nothing due (all held, or waiting for retries) is looked at again only after
    RECHECK seconds, so that its held rows are not read for every batch of another post."""

    def __init__(self) -> None:
        self._rows: dict[int, _Rows] = {}
        self._idle_until: dict[int, float] = {}

    def __call__(self, limit: int, before: int = dispatch.ANY) -> dispatch.Work | None:
        now = timezone.now()
        delivering.hold_for_quiet_hours(now)
        for post_id, urgent in delivering.sending_posts(now):
            if (URGENT if urgent else BULK) >= before:
                continue
            if self._idle_until.get(post_id, 0.0) > time.monotonic():
                continue
            ids = self._claim(post_id, limit)
            if ids:
                return dispatch.Work(ids, URGENT if urgent else BULK)
            self._idle_until[post_id] = time.monotonic() + RECHECK
        return None

    def _claim(self, post_id: int, limit: int) -> list[int]:
        rows = self._rows_of(post_id)
        if time.monotonic() >= rows.rescan_at:
            rows.cursor, rows.rescan_at = rows.first, time.monotonic() + RESCAN
        while True:
            ids = dispatch.claim(
                Delivery.objects.alias(post_of=F("post_id") + 0)
                .filter(post_of=post_id, id__gte=rows.cursor, id__lte=rows.last)
                .order_by("id"),
                limit,
            )
            if len(ids) == limit:
                rows.cursor = ids[-1] + 1
                return ids
            # The end of the post's rows: next time from its start again.
            from_start, rows.cursor = rows.cursor == rows.first, rows.first
            if ids or from_start:
                return ids

    def _rows_of(self, post_id: int) -> _Rows:
        if post_id not in self._rows:
            bounds = Delivery.objects.filter(post_id=post_id).aggregate(
                first=Min("id"), last=Max("id")
            )
            first, last = bounds["first"] or 0, bounds["last"] or 0
            self._rows[post_id] = _Rows(first, last, first, time.monotonic() + RESCAN)
        return self._rows[post_id]


def dispatch_once(batch: int = BATCH) -> int:
    """Claim and send one batch and wait for it; returns how many rows were claimed."""
    work = Claimer()(batch)
    if work is None:
        return 0
    dispatch.send_rows(delivering.load_claimed(work.ids), delivering.build_batch)
    return len(work.ids)


def dispatch_all(wake: threading.Event | None = None, *, invite: bool = False) -> int:
    """Send everything that is due through the pipeline, in this thread; then mark the posts
    that are done. Returns how many messages Meta accepted."""
    size = batch_size()
    claim: dispatch.ClaimNext = Claimer()
    if invite:
        claim = _inviting(claim, size)
    accepted = dispatch.Pipeline(
        claim,
        delivering.load_claimed,
        delivering.build_batch,
        batch=size,
        ahead=2 * size,
        wake=wake,
    ).run()
    actions.finish_completed_posts()
    return accepted


def _inviting(claim: dispatch.ClaimNext, size: int) -> dispatch.ClaimNext:
    """`claim`, which also keeps a dispatch job waiting while there is plenty of work, so that
    idle worker processes start their own dispatcher (at most one such job at a time)."""
    last = 0.0

    def claim_and_invite(limit: int, before: int) -> dispatch.Work | None:
        nonlocal last
        work = claim(limit, before)
        if work is not None and len(work.ids) == size and time.monotonic() - last > INVITE_EVERY:
            last = time.monotonic()
            coalesce.schedule_once(DISPATCH_WAITING, dispatch_deliveries)
        return work

    return claim_and_invite


class Dispatcher:
    """This process's dispatcher thread; at most one runs, and a wake-up is never lost."""

    _lock = threading.Lock()
    _running = False
    _again = False
    _wake = threading.Event()

    @classmethod
    def wake(cls) -> None:
        with cls._lock:
            if cls._running:
                cls._again = True
                cls._wake.set()
                return
            cls._running = True
        threading.Thread(target=cls._run, name="dispatcher", daemon=True).start()

    @classmethod
    def _run(cls) -> None:
        try:
            while True:
                try:
                    dispatch_all(cls._wake, invite=bool(settings.REDIS_URL))
                except Exception as exc:  # the next wake-up (the sweep) starts it again
                    log.error("dispatcher stopped: %s", type(exc).__name__)
                    with cls._lock:
                        cls._running = cls._again = False
                    return
                with cls._lock:
                    if not cls._again:
                        cls._running = False
                        return
                    cls._again = False
        finally:
            connection.close()


@db_task()
def dispatch_deliveries() -> None:
    coalesce.started(DISPATCH_WAITING)
    Dispatcher.wake()


@db_periodic_task(crontab(minute="7"))
def sync_templates() -> None:
    """Meta announces review results by webhook; this hourly sync catches a missed one."""
    try:
        templates.sync()
    except TransportError as exc:
        log.warning("template sync failed: %s", exc)


@db_periodic_task(crontab(minute="*"))
def sweep_deliveries() -> None:
    dispatch.release_stale_claims(Delivery)
    statuses.reconcile()
    actions.release_due_posts()
    coalesce.started(DISPATCH_WAITING)
    Dispatcher.wake()
