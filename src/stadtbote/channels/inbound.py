"""Inbound webhooks: durable storage first, application later, each stored body exactly once."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import NamedTuple

from django.db import OperationalError, transaction
from django.utils import timezone

from stadtbote.channels import statuses
from stadtbote.channels.models import InboundWebhook
from stadtbote.channels.signals import webhook_stored
from stadtbote.channels.types import InboundEvent, StatusUpdate
from stadtbote.channels.whatsapp import parser as whatsapp_parser
from stadtbote.channels.whatsapp.parser import Parsed

log = logging.getLogger(__name__)

# Tolerant: a malformed status in a body of many is left out, the others are applied.
PARSERS: dict[str, Callable[[bytes], Parsed]] = {
    "whatsapp": whatsapp_parser.parse_tolerant,
}

EventHandler = Callable[[InboundEvent], None]

# A row's new state and its error (empty when applied), and those of a batch by row id.
Outcome = tuple[str, str]
Outcomes = dict[int, Outcome]
APPLIED: Outcome = (InboundWebhook.State.APPLIED, "")


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

    The rows are marked in the same transaction as their effects, so a crash anywhere leaves
    them either fully applied or still pending. One bad body must not hold up the others:
    a malformed one is marked and kept for inspection; if applying raises, each body is
    applied again in a savepoint of its own and only the one that raised is marked failed.
    """
    with transaction.atomic():
        rows = [
            _Taken(*values)
            for values in InboundWebhook.objects.select_for_update(skip_locked=True)
            .filter(state=InboundWebhook.State.PENDING)
            .order_by("id")
            .values_list("id", "channel", "body")[:batch_size]
        ]
        outcomes: Outcomes = {}
        parsed: list[tuple[int, Parsed]] = []
        for row in rows:
            result = _parse(row)
            if isinstance(result, Parsed):
                parsed.append((row.pk, result))
            else:
                outcomes[row.pk] = result
        together = _apply_together(parsed, handle)
        outcomes.update(together if together is not None else _apply_each(parsed, handle))
        _mark(outcomes)
    return len(rows)


class _Taken(NamedTuple):
    """A pending row, without the model instance (a stream of small webhooks makes its
    construction a noticeable share of the work)."""

    pk: int
    channel: str
    body: bytes | memoryview  # memoryview from PostgreSQL


def _parse(row: _Taken) -> Parsed | Outcome:
    try:
        return PARSERS[row.channel](bytes(row.body))
    except whatsapp_parser.MalformedWebhook as exc:
        log.warning("webhook %s is malformed: %s", row.pk, exc)
        return InboundWebhook.State.MALFORMED, str(exc)
    except Exception as exc:
        return _failed(row.pk, exc)


def _apply_together(parsed: list[tuple[int, Parsed]], handle: EventHandler) -> Outcomes | None:
    """All bodies in one savepoint, their statuses recorded together: the common case, and
    what makes a stream of one-status webhooks cheap. None if anything raised (rolled back)."""
    try:
        with transaction.atomic():
            statuses.record(e for _, p in parsed for e in p.events if isinstance(e, StatusUpdate))
            for _, p in parsed:
                for event in p.events:
                    handle(event)  # statuses too: some failures say something about the person
    except Exception as exc:
        log.info("applying %d webhooks together raised %s", len(parsed), type(exc).__name__)
        return None
    return {pk: _outcome(pk, p) for pk, p in parsed}


def _apply_each(parsed: list[tuple[int, Parsed]], handle: EventHandler) -> Outcomes:
    """Each body in a savepoint of its own. A body that meets a deadlock or a lock timeout is
    left pending (no outcome) and taken again with the next batch: those errors say nothing
    about the body, and marking it failed would lose a vote or a Stop for good."""
    outcomes: Outcomes = {}
    for pk, p in parsed:
        try:
            with transaction.atomic():
                statuses.record(e for e in p.events if isinstance(e, StatusUpdate))
                for event in p.events:
                    handle(event)
        except Exception as exc:
            if _transient(exc):
                log.info("webhook %s left pending after %s", pk, type(exc).__name__)
                continue
            outcomes[pk] = _failed(pk, exc)
        else:
            outcomes[pk] = _outcome(pk, p)
    return outcomes


# PostgreSQL: deadlock detected, serialization failure, lock not available.
_TRANSIENT_STATES = {"40P01", "40001", "55P03"}


def _transient(exc: Exception) -> bool:
    """A database error that goes away by trying again later."""
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    state = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if state in _TRANSIENT_STATES:
        return True
    return "database is locked" in str(exc)  # SQLite: the busy timeout ran out


def _outcome(pk: int, parsed: Parsed) -> Outcome:
    if parsed.problem is None:
        return APPLIED
    # What could be read was applied; the body is kept to see what could not.
    log.warning("webhook %s is malformed in part: %s", pk, parsed.problem)
    return InboundWebhook.State.MALFORMED, parsed.problem


def _failed(pk: int, exc: Exception) -> Outcome:
    # Only the type is logged: exception messages may quote message text or numbers.
    log.error("webhook %s could not be applied: %s", pk, type(exc).__name__)
    return InboundWebhook.State.FAILED, type(exc).__name__


def _mark(outcomes: Outcomes) -> None:
    now = timezone.now()
    applied = [pk for pk, outcome in outcomes.items() if outcome == APPLIED]
    # Applied, a body has done its work; it holds numbers and message texts, so only its hash
    # stays (to recognise Meta's retries). Bodies that could not be applied are kept for
    # inspection until retention empties them.
    InboundWebhook.objects.filter(id__in=applied).update(
        state=InboundWebhook.State.APPLIED, error="", processed_at=now, body=b""
    )
    for pk, (state, error) in outcomes.items():
        if (state, error) != APPLIED:
            InboundWebhook.objects.filter(pk=pk).update(state=state, error=error, processed_at=now)


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
