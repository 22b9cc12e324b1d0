"""Inbound webhooks: durable storage first, application later, each stored body exactly once."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from stadtbote.channels import statuses
from stadtbote.channels.models import InboundWebhook
from stadtbote.channels.signals import webhook_stored
from stadtbote.channels.types import InboundEvent, StatusUpdate
from stadtbote.channels.whatsapp import parser as whatsapp_parser

log = logging.getLogger(__name__)

PARSERS: dict[str, Callable[[bytes], list[InboundEvent]]] = {
    "whatsapp": whatsapp_parser.parse,
}

EventHandler = Callable[[InboundEvent], None]


@dataclass(frozen=True)
class Stored:
    pk: int
    created: bool


def store(*, channel: str, body: bytes) -> Stored:
    """Insert the raw body unless the same bytes were stored before (a retry)."""
    digest = hashlib.sha256(body).hexdigest()
    with transaction.atomic():
        row, created = InboundWebhook.objects.get_or_create(
            content_hash=digest, defaults={"channel": channel, "body": body}
        )
        if created:
            transaction.on_commit(lambda: webhook_stored.send(sender=InboundWebhook))
    return Stored(pk=row.pk, created=created)


def apply_pending(handle: EventHandler, batch_size: int = 100) -> int:
    """Apply up to `batch_size` stored webhooks; returns how many rows were taken.

    The row is marked in the same transaction as its effects, so a crash anywhere leaves it
    either fully applied or still pending. Each row gets a savepoint: one bad body is marked
    and kept for inspection, and the batch goes on.
    """
    with transaction.atomic():
        rows = list(
            InboundWebhook.objects.select_for_update(skip_locked=True)
            .filter(state=InboundWebhook.State.PENDING)
            .order_by("id")[:batch_size]
        )
        for row in rows:
            row.state, row.error = _apply_one(row, handle)
            row.processed_at = timezone.now()
            if row.state == InboundWebhook.State.APPLIED:
                # Applied, the body has done its work; it holds numbers and message texts, so
                # only its hash stays (to recognise Meta's retries). Bodies that could not be
                # applied are kept for inspection until retention empties them.
                row.body = b""
            row.save(update_fields=["state", "error", "processed_at", "body"])
    return len(rows)


def _apply_one(row: InboundWebhook, handle: EventHandler) -> tuple[str, str]:
    parse = PARSERS[row.channel]
    try:
        with transaction.atomic():
            events = parse(bytes(row.body))
            statuses.record([e for e in events if isinstance(e, StatusUpdate)])
            for event in events:
                handle(event)  # statuses too: some failures say something about the person
    except whatsapp_parser.MalformedWebhook as exc:
        log.warning("webhook %s is malformed: %s", row.pk, exc)
        return InboundWebhook.State.MALFORMED, str(exc)
    except Exception as exc:
        # Only the type is logged: exception messages may quote message text or numbers.
        log.error("webhook %s could not be applied: %s", row.pk, type(exc).__name__)
        return InboundWebhook.State.FAILED, type(exc).__name__
    return InboundWebhook.State.APPLIED, ""


def purge_bodies_mentioning(number: str, chunk: int = 500) -> int:
    """Empties stored bodies that contain this number (erasure). Applied bodies are emptied
    by retention anyway, so few are left to scan; the hash stays so retries are still known.
    A body not applied yet is not applied any more: the citizen asked to be forgotten."""
    needle = b'"' + number.encode() + b'"'  # numbers are JSON strings: match whole ones only
    purged, last_id = 0, 0
    while True:
        rows = list(
            InboundWebhook.objects.filter(id__gt=last_id)
            .exclude(body=b"")
            .order_by("id")
            .values_list("id", "body")[:chunk]
        )
        if not rows:
            return purged
        last_id = rows[-1][0]
        hits = InboundWebhook.objects.filter(id__in=[pk for pk, b in rows if needle in bytes(b)])
        hits.filter(state=InboundWebhook.State.PENDING).update(
            state=InboundWebhook.State.FAILED, error="erased before it was applied"
        )
        purged += hits.update(body=b"")


def purge_kept_bodies(older_than: timedelta) -> int:
    """Retention: bodies kept for inspection (malformed, failed) go after the period too."""
    cutoff = timezone.now() - older_than
    return (
        InboundWebhook.objects.filter(received_at__lt=cutoff)
        .exclude(state=InboundWebhook.State.PENDING)
        .exclude(body=b"")
        .update(body=b"")
    )
