"""Claiming, sending and recording outgoing messages, for any TrackedMessage model.

Claiming is compare-and-set in one transaction (SKIP LOCKED on PostgreSQL, the write lock on
SQLite), so any number of worker processes can share the work without sending a row twice.
A claimed row that is never recorded (the worker was killed mid-send) is not sent again: the
sweeper marks it failed with a reason, because Meta may already have accepted it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from stadtbote.channels import statuses
from stadtbote.channels.models import SendState, TrackedMessage
from stadtbote.channels.sending import Outgoing, SendLoop, SendResult
from stadtbote.channels.types import TransportError

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


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
    now = timezone.now()
    due = Q(state=SendState.QUEUED) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    released = Q(state=SendState.HELD, next_attempt_at__lte=now)
    with transaction.atomic():
        ids = list(
            queryset.select_for_update(skip_locked=True, of=("self",))
            .filter(due | released)
            .values_list("id", flat=True)[:limit]
        )
        if ids:
            queryset.model.objects.filter(
                id__in=ids, state__in=[SendState.QUEUED, SendState.HELD]
            ).update(state=SendState.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    return ids


def send_claimed(queryset: models.QuerySet[Any], ids: Sequence[int], build: BuildBatch) -> int:
    """Send the claimed rows and record each outcome; returns how many Meta accepted.
    `queryset` selects the related rows `build` needs (select_related)."""
    model = queryset.model
    rows = list(queryset.filter(id__in=ids, state=SendState.SENDING))
    sendable: list[tuple[TrackedMessage, Outgoing]] = []
    for row, outgoing in zip(rows, build(rows), strict=True):
        if isinstance(outgoing, str):
            _fail(row, outgoing, code=None)
        elif isinstance(outgoing, Hold):
            _hold(row, outgoing)
        else:
            sendable.append((row, outgoing))
    if not sendable:
        return 0
    results = SendLoop.instance().send_many([o for _, o in sendable])
    return _record(model, sendable, results)


def _record(
    model: type[Any], sent: list[tuple[TrackedMessage, Outgoing]], results: list[SendResult]
) -> int:
    accepted: list[TrackedMessage] = []
    now = timezone.now()
    for (row, outgoing), result in zip(sent, results, strict=True):
        if isinstance(result, TransportError):
            _retry_or_fail(row, result)
            continue
        row.message_id, row.state, row.claimed_at = result, SendState.ACCEPTED, None
        row.last_error, row.error_code = "", None
        row.dispatched_at, row.via_template = now, outgoing.message.template is not None
        accepted.append(row)
    with transaction.atomic():
        model.objects.bulk_update(
            accepted,
            [
                "message_id",
                "state",
                "claimed_at",
                "last_error",
                "error_code",
                "dispatched_at",
                "via_template",
            ],
        )
        statuses.apply_known(r.message_id for r in accepted if r.message_id)
    log.info("%s: %d accepted of %d", model.__name__, len(accepted), len(sent))
    return len(accepted)


def _same_row(row: TrackedMessage) -> models.QuerySet[Any]:
    model: Any = type(row)  # a concrete subclass; the abstract base has no manager to type
    return model.objects.filter(pk=row.pk)


def _retry_or_fail(row: TrackedMessage, error: TransportError) -> None:
    if error.permanent or row.attempts >= MAX_ATTEMPTS:
        _fail(row, str(error), code=error.code)
        return
    delay = error.retry_after or min(2**row.attempts, 300)
    _same_row(row).filter(state=SendState.SENDING).update(
        state=SendState.QUEUED,
        claimed_at=None,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
        last_error=str(error)[:200],
        error_code=error.code,
    )


def _hold(row: TrackedMessage, hold: Hold) -> None:
    # A hold is not an attempt: the claim's count is given back.
    _same_row(row).filter(state=SendState.SENDING).update(
        state=SendState.HELD,
        claimed_at=None,
        next_attempt_at=hold.until,
        last_error=hold.reason[:200],
        attempts=F("attempts") - 1,
    )


def _fail(row: TrackedMessage, reason: str, *, code: int | None) -> None:
    _same_row(row).filter(state__lt=SendState.ACCEPTED).update(
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
