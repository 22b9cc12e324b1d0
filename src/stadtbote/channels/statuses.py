"""Applying delivery statuses to the messages Stadtbote sent (posts' deliveries, chat replies).

Statuses arrive at least once, in any order, and `delivered` may be skipped. A state only
moves forward (see SendState), so repeats and late arrivals change nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.db import models
from django.utils import timezone

from stadtbote.channels.models import SendState, StatusEvent, TrackedMessage
from stadtbote.channels.types import DeliveryStatus, StatusUpdate

_STATE = {
    DeliveryStatus.SENT: (SendState.SENT, "sent_at"),
    DeliveryStatus.DELIVERED: (SendState.DELIVERED, "delivered_at"),
    DeliveryStatus.READ: (SendState.READ, "read_at"),
    DeliveryStatus.FAILED: (SendState.FAILED, "failed_at"),
}


def tracked_models() -> list[type[TrackedMessage]]:
    return [m for m in apps.get_models() if issubclass(m, TrackedMessage)]


def record(updates: Iterable[StatusUpdate]) -> None:
    updates = list(updates)
    if not updates:
        return
    StatusEvent.objects.bulk_create(
        [
            StatusEvent(
                message_id=u.message_id,
                status=u.status.value,
                occurred_at=u.timestamp,
                error_code=u.error_code,
                error_title=(u.error_title or "")[:200],
                pricing_category=u.pricing_category or "",
                billable=u.billable,
            )
            for u in updates
        ],
        ignore_conflicts=True,
    )
    for u in updates:
        _advance(u.message_id, DeliveryStatus(u.status), u.timestamp, u.error_code, u.error_title)


def apply_known(message_ids: Iterable[str]) -> None:
    """After the sender records message ids: apply statuses that arrived before it did."""
    for event in StatusEvent.objects.filter(message_id__in=list(message_ids)).order_by("id"):
        _advance(
            event.message_id,
            DeliveryStatus(event.status),
            event.occurred_at,
            event.error_code,
            event.error_title,
        )


def reconcile(window: timedelta = timedelta(minutes=5)) -> int:
    """Re-apply recent statuses to messages still behind them.

    Closes the race where a status is recorded while the sender records the message id in
    another transaction on PostgreSQL and each misses the other's uncommitted row. Normally
    finds nothing; run by the periodic sweep. Returns how many messages were behind.
    """
    cutoff = timezone.now() - window
    behind: set[str] = set()
    for status, (state, _) in _STATE.items():
        recent = StatusEvent.objects.filter(recorded_at__gte=cutoff, status=status.value)
        for model in tracked_models():
            manager: Any = model.objects  # type: ignore[attr-defined]
            behind.update(
                manager.filter(
                    message_id__in=recent.values("message_id"), state__lt=state
                ).values_list("message_id", flat=True)
            )
    if behind:
        apply_known(behind)
    return len(behind)


def _advance(
    message_id: str,
    status: DeliveryStatus,
    when: datetime,
    error_code: int | None,
    error_title: str | None,
) -> None:
    state, stamp = _STATE[status]
    changes: dict[str, object] = {"state": state, stamp: when}
    if status is DeliveryStatus.FAILED:
        changes["error_code"] = error_code
        changes["last_error"] = (error_title or "")[:200]
    for model in tracked_models():
        qs: models.QuerySet[TrackedMessage] = model.objects.filter(  # type: ignore[attr-defined]
            message_id=message_id, state__lt=state
        )
        qs.update(**changes)
