"""Claiming, sending and recording outgoing messages, for any TrackedMessage model.

Claiming is compare-and-set in one transaction (SKIP LOCKED on PostgreSQL, the write lock on
SQLite), so any number of worker processes can share the work without sending a row twice.
A claimed row that is never recorded (the worker was killed mid-send) is not sent again: the
sweeper marks it failed with a reason, because Meta may already have accepted it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
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

# A row to send, or the reason it must not be sent after all (e.g. the citizen said Stop).
Build = Callable[[TrackedMessage], Outgoing | str]


def claim(queryset: models.QuerySet[Any], limit: int) -> list[int]:
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            queryset.select_for_update(skip_locked=True, of=("self",))
            .filter(state=SendState.QUEUED)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .values_list("id", flat=True)[:limit]
        )
        if ids:
            queryset.model.objects.filter(id__in=ids, state=SendState.QUEUED).update(
                state=SendState.SENDING, claimed_at=now, attempts=F("attempts") + 1
            )
    return ids


def send_claimed(queryset: models.QuerySet[Any], ids: Sequence[int], build: Build) -> int:
    """Send the claimed rows and record each outcome; returns how many Meta accepted.
    `queryset` selects the related rows `build` needs (select_related)."""
    model = queryset.model
    rows = list(queryset.filter(id__in=ids, state=SendState.SENDING))
    sendable: list[tuple[TrackedMessage, Outgoing]] = []
    for row in rows:
        outgoing = build(row)
        if isinstance(outgoing, str):
            _fail(row, outgoing, code=None)
        else:
            sendable.append((row, outgoing))
    if not sendable:
        return 0
    results = SendLoop.instance().send_many([o for _, o in sendable])
    return _record(model, [r for r, _ in sendable], results)


def _record(model: type[Any], rows: list[TrackedMessage], results: list[SendResult]) -> int:
    accepted: list[TrackedMessage] = []
    for row, result in zip(rows, results, strict=True):
        if isinstance(result, TransportError):
            _retry_or_fail(row, result)
            continue
        row.message_id, row.state, row.claimed_at = result, SendState.ACCEPTED, None
        row.last_error, row.error_code = "", None
        accepted.append(row)
    with transaction.atomic():
        model.objects.bulk_update(
            accepted, ["message_id", "state", "claimed_at", "last_error", "error_code"]
        )
        statuses.apply_known(r.message_id for r in accepted if r.message_id)
    log.info("%s: %d accepted of %d", model.__name__, len(accepted), len(rows))
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
