"""Claiming, sending and recording outgoing messages, for any TrackedMessage model.

Claiming is compare-and-set in one statement (SKIP LOCKED on PostgreSQL, the write lock on
SQLite), so any number of worker processes can share the work without sending a row twice.
A claimed row that is never recorded (the worker was killed mid-send) is not sent again: the
sweeper marks it failed with a reason, because Meta may already have accepted it.

Two ways to send. `send_claimed` sends one claimed batch and waits for it (chat replies).
A `Pipeline` keeps the process's send loop fed for as long as there is work: it claims and
builds the next batch while earlier ones are in flight, and records finished batches in bulk,
one transaction each, so that the sends never wait for the database and the pacer's schedule
stays full.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone

from stadtbote.channels import statuses
from stadtbote.channels.models import SendState, TrackedMessage
from stadtbote.channels.sending import (
    BULK,
    URGENT,
    Interrupted,
    Outgoing,
    SendLoop,
    SendResult,
    not_sent,
)
from stadtbote.channels.types import TransportError

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# How often a pipeline with nothing to do this moment looks again at its batches in flight,
# and how often a busy one looks for more urgent work than it is sending.
POLL = 0.01
LOOK_AHEAD = 0.2
# A pipeline with nothing left to claim but retries due within RETRY_WAIT seconds waits for
# them rather than leaving them to the minute's sweep; it looks every RETRY_POLL seconds and
# gives up RETRY_GRACE seconds after the last one was due (another worker may have sent it).
RETRY_WAIT = 60.0
RETRY_POLL = 1.0
RETRY_GRACE = 15.0


@dataclass(frozen=True)
class Hold:
    """Not now: the row waits (state HELD) until `until`, then is claimed again. Quiet hours,
    the daily cap per subscriber and Meta's daily limit of unique users hold posts."""

    until: datetime
    reason: str


# For each row: what to send, a Hold, or the reason it must not be sent after all (e.g. the
# citizen said Stop). Whole batches, so that a decision can look at the batch together.
BuildBatch = Callable[[list[TrackedMessage]], list[Outgoing | Hold | str]]
Build = Callable[[TrackedMessage], Outgoing | Hold | str]


def per_row(build: Build) -> BuildBatch:
    return lambda rows: [build(row) for row in rows]


def claim(queryset: models.QuerySet[Any], limit: int) -> list[int]:
    """Claims up to `limit` rows of `queryset` (in its order) that are due: queued ones and
    held ones whose time has come. One UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED
    LIMIT n) RETURNING id: a single round trip, and no two workers get the same row."""
    now = timezone.now()
    due = Q(state=SendState.QUEUED) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    released = Q(state=SendState.HELD, next_attempt_at__lte=now)
    model = queryset.model
    column = _columns(model)
    with transaction.atomic():
        chosen = (
            queryset.select_for_update(skip_locked=True, of=("self",))
            # Spelled out as its own term so that both databases use the partial index of
            # waiting rows (SQLite only matches a partial index's condition literally).
            .filter(state__in=[SendState.QUEUED, SendState.HELD])
            .filter(due | released)
            .values("id")[:limit]
        )
        select, params = chosen.query.sql_with_params()
        # Table and column names come from the model's metadata; values are parameters.
        sql = (
            f"UPDATE {column['table']} SET {column['state']} = %s, {column['claimed_at']} = %s,"  # noqa: S608
            f" {column['attempts']} = {column['attempts']} + 1"
            f" WHERE {column['id']} IN ({select}) AND {column['state']} IN (%s, %s)"
            f" RETURNING {column['id']}"
        )
        with connection.cursor() as cursor:
            cursor.execute(
                sql,
                [
                    SendState.SENDING.value,
                    connection.ops.adapt_datetimefield_value(now),
                    *params,
                    SendState.QUEUED.value,
                    SendState.HELD.value,
                ],
            )
            return sorted(row[0] for row in cursor.fetchall())


def send_claimed(queryset: models.QuerySet[Any], ids: Sequence[int], build: BuildBatch) -> int:
    """Send the claimed rows, wait, and record each outcome; returns how many Meta accepted.
    `queryset` selects the related rows `build` needs (select_related)."""
    return send_rows(list(queryset.filter(id__in=ids, state=SendState.SENDING)), build)


def send_rows(rows: list[TrackedMessage], build: BuildBatch) -> int:
    """`send_claimed` for rows already loaded."""
    sendable = prepare(rows, build)
    if not sendable:
        return 0
    results = SendLoop.instance().send_many([o for _, o in sendable])
    return record(type(rows[0]), sendable, results).accepted


def prepare(rows: list[TrackedMessage], build: BuildBatch) -> list[tuple[TrackedMessage, Outgoing]]:
    """Builds the claimed rows; holds and refusals are recorded at once, in bulk. Returns
    what is to be sent."""
    if not rows:
        return []
    sendable: list[tuple[TrackedMessage, Outgoing]] = []
    refused: dict[str, list[int]] = defaultdict(list)
    held: dict[Hold, list[int]] = defaultdict(list)
    for row, outgoing in zip(rows, build(rows), strict=True):
        if isinstance(outgoing, str):
            refused[outgoing].append(row.pk)
        elif isinstance(outgoing, Hold):
            held[outgoing].append(row.pk)
        else:
            sendable.append((row, outgoing))
    if refused or held:
        model = type(rows[0])
        with transaction.atomic():
            for reason, ids in refused.items():
                _fail(model, ids, reason, code=None)
            for hold, ids in held.items():
                _hold(model, ids, hold)
    return sendable


@dataclass(frozen=True)
class Recorded:
    accepted: int
    retry_in: float | None = None  # seconds until the first retry of this batch is due


def record(
    model: type[Any], sent: list[tuple[TrackedMessage, Outgoing]], results: list[SendResult]
) -> Recorded:
    """Records a sent batch in one transaction: Meta's message ids of the accepted rows (then
    the statuses that arrived before them), retries and failures grouped by their reason.

    A throttle (an error with the platform's `retry_after`, e.g. Meta's 130429 and 131056) says
    "later", not "this failed": its retry gives the attempt back, so that a long throttle does
    not use up MAX_ATTEMPTS."""
    accepted: list[tuple[int, str, bool]] = []
    retry: dict[tuple[float, bool, str, int | None], list[int]] = defaultdict(list)
    failed: dict[tuple[str, int | None], list[int]] = defaultdict(list)
    for (row, outgoing), result in zip(sent, results, strict=True):
        if isinstance(result, Interrupted):
            continue  # stays SENDING: the sweeper fails it, it is never sent twice
        if isinstance(result, TransportError):
            if result.permanent or row.attempts >= MAX_ATTEMPTS:
                failed[(str(result)[:200], result.code)].append(row.pk)
            else:
                throttled = result.retry_after is not None
                delay = result.retry_after or min(2**row.attempts, 300)
                retry[(delay, throttled, str(result)[:200], result.code)].append(row.pk)
            continue
        accepted.append((row.pk, result, outgoing.message.template is not None))
    with transaction.atomic():
        _mark_accepted(model, accepted)
        statuses.apply_known(message_id for _, message_id, _ in accepted)
        for (reason, code), ids in failed.items():
            _fail(model, ids, reason, code=code)
        for (delay, throttled, reason, code), ids in retry.items():
            model.objects.filter(id__in=ids, state=SendState.SENDING).update(
                state=SendState.QUEUED,
                claimed_at=None,
                next_attempt_at=timezone.now() + timedelta(seconds=delay),
                last_error=reason,
                error_code=code,
                attempts=F("attempts") - 1 if throttled else F("attempts"),
            )
    log.info("%s: %d accepted of %d", model.__name__, len(accepted), len(sent))
    return Recorded(len(accepted), min((key[0] for key in retry), default=None))


def _mark_accepted(model: type[Any], accepted: list[tuple[int, str, bool]]) -> None:
    """One statement for the whole batch (the ORM's bulk_update builds a CASE per row and
    field, which cost more than sending)."""
    if not accepted:
        return
    column = _columns(model)  # names from the model's metadata; values are parameters
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    assignments = (
        f"{column['state']} = %s, {column['claimed_at']} = NULL, {column['last_error']} = '',"
        f" {column['error_code']} = NULL, {column['dispatched_at']} = %s"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            ids, message_ids, templates = zip(*accepted, strict=True)
            sql = (
                f"UPDATE {column['table']} AS t SET {assignments},"  # noqa: S608
                f" {column['message_id']} = v.message_id, {column['via_template']} = v.template"
                " FROM unnest(%s::bigint[], %s::text[], %s::boolean[])"
                f" AS v(id, message_id, template) WHERE t.{column['id']} = v.id"
            )
            cursor.execute(
                sql, [SendState.ACCEPTED.value, now, list(ids), list(message_ids), list(templates)]
            )
        else:
            sql = (
                f"UPDATE {column['table']} SET {assignments},"  # noqa: S608
                f" {column['message_id']} = %s, {column['via_template']} = %s"
                f" WHERE {column['id']} = %s"
            )
            cursor.executemany(
                sql,
                [
                    (SendState.ACCEPTED.value, now, message_id, template, pk)
                    for pk, message_id, template in accepted
                ],
            )


def _columns(model: type[Any]) -> dict[str, str]:
    """Quoted table and column names of a TrackedMessage model, for hand-written SQL."""
    quote = connection.ops.quote_name
    names = {
        "id": model._meta.pk.column,
        **{
            name: model._meta.get_field(name).column
            for name in (
                "state",
                "claimed_at",
                "attempts",
                "message_id",
                "last_error",
                "error_code",
                "dispatched_at",
                "via_template",
            )
        },
    }
    return {"table": quote(model._meta.db_table), **{k: quote(v) for k, v in names.items()}}


def _hold(model: type[Any], ids: list[int], hold: Hold) -> None:
    # A hold is not an attempt: the claim's count is given back.
    model.objects.filter(id__in=ids, state=SendState.SENDING).update(
        state=SendState.HELD,
        claimed_at=None,
        next_attempt_at=hold.until,
        last_error=hold.reason[:200],
        attempts=F("attempts") - 1,
    )


def _fail(model: type[Any], ids: list[int], reason: str, *, code: int | None) -> None:
    model.objects.filter(id__in=ids, state__lt=SendState.ACCEPTED).update(
        state=SendState.FAILED,
        claimed_at=None,
        failed_at=timezone.now(),
        last_error=reason[:200],
        error_code=code,
    )


def release_stale_claims(model: type[Any]) -> int:
    """Rows left in SENDING by a killed worker: Meta may have accepted them, so they are not
    resent; they fail with a reason that statistics can show."""
    cutoff = timezone.now() - timedelta(seconds=settings.STALE_CLAIM_SECONDS)
    return model.objects.filter(state=SendState.SENDING, claimed_at__lt=cutoff).update(
        state=SendState.FAILED,
        failed_at=timezone.now(),
        last_error="interrupted while sending; not resent to avoid a duplicate",
    )


# --- the pipeline ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Work:
    """One claimed batch: the rows' ids and the send loop priority they go with."""

    ids: list[int]
    priority: int = BULK


# (limit, before) -> the next batch of at most `limit` rows whose priority is below `before`
# (ANY: whatever comes next), or None.
ClaimNext = Callable[[int, int], Work | None]
ANY = BULK + 1
Load = Callable[[list[int]], list[TrackedMessage]]


class Pipeline:
    """Claims, builds and submits batches while earlier ones are in flight, and records each
    batch when all its results are in, until nothing is left to claim.

    It claims whenever fewer than `ahead` items wait in the send loop, so the stream never
    runs dry while this thread is busy with the database; `ahead` also bounds how long a
    claimed row waits before it is sent (a Stop or a pause in that time is not seen). With a
    full stream it still asks every LOOK_AHEAD seconds for work more urgent than what it is
    sending, and at once when `wake` is set: an urgent post's messages then overtake the
    queued ones in the send loop, whether or not a job told this process about the post."""

    def __init__(
        self,
        claim_next: ClaimNext,
        load: Load,
        build: BuildBatch,
        *,
        batch: int,
        ahead: int,
        wake: threading.Event | None = None,
    ) -> None:
        self._claim_next = claim_next
        self._load = load
        self._build = build
        self._batch = batch
        self._ahead = ahead
        self._wake = wake or threading.Event()
        self._in_flight: list[tuple[list[tuple[TrackedMessage, Outgoing]], Future[Any]]] = []
        self._retry_at: float | None = None  # time.monotonic() when the first retry is due

    def run(self) -> int:
        """Returns how many messages Meta accepted."""
        sender = SendLoop.instance()
        accepted = 0
        exhausted = False
        # The priority of the last batch: while urgent work lasts, only the urgent messages
        # waiting count, so that their stream does not break off behind queued bulk ones.
        priority = BULK
        look_at = time.monotonic() + LOOK_AHEAD
        while True:
            woken = self._wake.is_set()
            if woken:
                self._wake.clear()
                exhausted = False
            else:
                # Every pass, also while claiming goes on and on: a batch left unrecorded
                # would stay SENDING (and be failed as interrupted after STALE_CLAIM_SECONDS).
                # Only a wake-up (an urgent post) claims first.
                accepted += self._record_finished()
            before: int | None = None  # claim only work of a priority below this
            if woken or (not exhausted and sender.waiting(priority) < self._ahead):
                before = ANY
            elif priority > URGENT and time.monotonic() >= look_at:
                before = priority
            if before is not None:
                look_at = time.monotonic() + LOOK_AHEAD
                work = self._claim_next(self._batch, before)
                if work is not None:
                    priority = work.priority
                    if self._retry_at is not None and self._retry_at <= time.monotonic():
                        self._retry_at = None  # due retries are claimed like any row
                    self._submit(sender, work)
                    continue
                if before == ANY:
                    exhausted, priority = True, BULK
            accepted += self._record_finished()
            if exhausted and not self._in_flight:
                if not self._wait_for_retries():
                    return accepted
                exhausted = False
                continue
            self._wake.wait(POLL)

    def _submit(self, sender: SendLoop, work: Work) -> None:
        rows = self._load(work.ids)
        sendable = prepare(rows, self._build)
        if not sendable:
            return
        try:
            future = sender.submit([o for _, o in sendable], work.priority)
        except RuntimeError:  # the worker is stopping: these never left, they may go later
            record(type(rows[0]), sendable, [not_sent() for _ in sendable])
            raise
        self._in_flight.append((sendable, future))

    def _record_finished(self) -> int:
        # Not only the oldest: an urgent batch submitted later may be done first.
        accepted = 0
        for entry in [e for e in self._in_flight if e[1].done()]:
            self._in_flight.remove(entry)
            sendable, future = entry
            recorded = record(type(sendable[0][0]), sendable, future.result())
            accepted += recorded.accepted
            if recorded.retry_in is not None:
                due = time.monotonic() + recorded.retry_in
                self._retry_at = due if self._retry_at is None else min(self._retry_at, due)
        return accepted

    def _wait_for_retries(self) -> bool:
        """With nothing left to claim: waits for retries due soon (True), or gives up (False)."""
        now = time.monotonic()
        due = self._retry_at
        if due is None or due > now + RETRY_WAIT or now > due + RETRY_GRACE:
            return False
        self._wake.wait(max(due - now, RETRY_POLL))
        return True
