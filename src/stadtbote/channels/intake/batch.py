"""What both writers share: the waiting body, how a batch is cut, its rows, and answering."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Field

from stadtbote.channels.models import InboundWebhook
from stadtbote.channels.signals import webhook_stored

log = logging.getLogger("stadtbote.channels.intake")

MAX_ROWS = 500  # per transaction; bounds the statement, not the throughput
MAX_BYTES = 16 * 1024 * 1024  # a batch stops growing past this (bodies are up to 3 MB each)
WAIT_SECONDS = 60.0  # longer than SQLite's busy timeout (30 s): a hung database gets a 500

# Per row, the rest is the same for the whole batch.
VARYING = ("channel", "body", "content_hash")


class NotStored(Exception):
    """The batch this body was in could not be committed; the request should fail (Meta retries)."""


@dataclass(frozen=True, slots=True)
class Body:
    """One verified webhook body waiting for its batch's commit."""

    channel: str
    body: bytes
    digest: str
    done: asyncio.Future[None]


def take_batch(waiting: list[Body]) -> list[Body]:
    """Removes and returns the oldest bodies, up to the row and byte limits of one batch."""
    count, size = 0, 0
    while count < len(waiting) and count < MAX_ROWS and size < MAX_BYTES:
        size += len(waiting[count].body)
        count += 1
    batch = waiting[:count]
    del waiting[:count]
    return batch


@dataclass(frozen=True)
class Rows:
    """A batch as column values. `shared` holds the columns every row has the same value in,
    prepared the way the ORM would (defaults, `auto_now_add`), so that a column added to the
    model later is filled too; the others come per row, once per content hash."""

    table: str
    columns: list[str]
    shared: dict[str, Any]
    varying: dict[str, list[Any]]

    def __len__(self) -> int:
        return len(self.varying["content_hash"])


def rows_of(batch: Sequence[Body]) -> Rows:
    template = InboundWebhook(channel=batch[0].channel)
    unique = list({item.digest: item for item in batch}.values())  # a retry in the batch: once
    per_row: dict[str, list[Any]] = {
        "channel": [item.channel for item in unique],
        "body": [item.body for item in unique],
        "content_hash": [item.digest for item in unique],
    }
    columns: list[str] = []
    shared: dict[str, Any] = {}
    varying: dict[str, list[Any]] = {}
    for field in InboundWebhook._meta.concrete_fields:
        if field.primary_key or getattr(field, "generated", False) or not field.column:
            continue
        columns.append(field.column)
        if field.attname in VARYING:
            varying[field.column] = per_row[field.attname]
        else:
            shared[field.column] = _prepared(field, template)
    return Rows(InboundWebhook._meta.db_table, columns, shared, varying)


def _prepared(field: Field[Any, Any], template: InboundWebhook) -> Any:
    return field.get_db_prep_save(field.pre_save(template, add=True), connection)


def announce(inserted: int) -> None:
    """After a commit that stored something new: schedule the apply job (coalesced, so once per
    batch is plenty). A failure here does not fail the requests: what is stored is stored, and
    the minute sweep takes up rows whose job was not queued."""
    if not inserted:
        return
    try:
        webhook_stored.send(sender=InboundWebhook)
    except Exception as exc:
        log.error("apply job not scheduled: %s", type(exc).__name__)


def resolve(futures: Sequence[asyncio.Future[None]], error: Exception | None) -> None:
    """Answers the waiting requests; runs in their event loop."""
    for future in futures:
        if future.done():  # the request gave up (timeout, cancelled)
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


def failed(batch: Sequence[Body], exc: Exception) -> NotStored:
    # The type only: database errors can quote the values of the statement.
    log.error("webhook batch of %d not stored: %s", len(batch), type(exc).__name__)
    return NotStored(type(exc).__name__)


def committed(batch: Sequence[Body], inserted: int, started: float) -> None:
    log.debug(
        "stored a batch of %d (%d new) in %.1f ms",
        len(batch),
        inserted,
        1000 * (time.perf_counter() - started),
    )
