"""Applying delivery statuses to the messages Stadtbote sent (posts' deliveries, chat replies).

Statuses arrive at least once, in any order, and `delivered` may be skipped. A state only
moves forward (see SendState), so repeats and late arrivals change nothing.

Set-based: the statuses of a batch (Meta puts up to 1,000 in one webhook, and the worker applies
up to 100 webhooks at a time) are recorded with one INSERT and applied with one UPDATE per
tracked model, each per chunk of rows, joined by message id to the batch passed as a table.
The outcome is the same as applying the statuses one at a time in the order they arrived.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.apps import apps
from django.db import connection
from django.utils import timezone

from stadtbote.channels.models import SendState, StatusEvent, TrackedMessage
from stadtbote.channels.types import DeliveryStatus, StatusUpdate

_STATE = {
    DeliveryStatus.SENT: (SendState.SENT, "sent_at"),
    DeliveryStatus.DELIVERED: (SendState.DELIVERED, "delivered_at"),
    DeliveryStatus.READ: (SendState.READ, "read_at"),
    DeliveryStatus.FAILED: (SendState.FAILED, "failed_at"),
}
STAMPS = tuple(stamp for _, stamp in _STATE.values())

# Rows per statement. A statement carries its rows in one JSON parameter (see _batch_table),
# about 150 bytes a row; only the look-up in apply_known has one parameter per message id and
# takes fewer under the connection's limit.
MAX_ROWS_PER_STATEMENT = 1000

ERROR_TITLE_LENGTH = StatusEvent._meta.get_field("error_title").max_length or 200
BILLED_LENGTH = TrackedMessage._meta.get_field("billed_category").max_length or 20
# Meta may add categories: a longer one is cut, not refused with the whole batch.
CATEGORY_LENGTH = StatusEvent._meta.get_field("pricing_category").max_length or 40


def tracked_models() -> list[type[TrackedMessage]]:
    return [m for m in apps.get_models() if issubclass(m, TrackedMessage)]


def record(updates: Iterable[StatusUpdate]) -> None:
    """Keep each status once per (message, status), then move the messages forward."""
    updates = list(updates)
    if not updates:
        return
    _insert_events(updates)
    _advance(updates)


def apply_known(message_ids: Iterable[str]) -> None:
    """After the sender records message ids: apply statuses that arrived before it did."""
    ids = sorted(set(message_ids))
    events: list[StatusEvent] = []
    for chunk in _chunks(ids, rows_per_statement(1)):
        events.extend(StatusEvent.objects.filter(message_id__in=chunk))
    events.sort(key=lambda e: e.pk)  # the order they arrived in
    _advance([_as_update(e) for e in events])


def reconcile(window: timedelta = timedelta(minutes=5)) -> int:
    """Re-apply recent statuses to messages still behind them.

    Closes the race where a status is recorded while the sender records the message id in
    another transaction on PostgreSQL and each misses the other's uncommitted row. Normally
    finds nothing; run by the periodic sweep. Returns how many messages were behind.
    """
    recent = StatusEvent.objects.filter(recorded_at__gte=timezone.now() - window)
    billable = recent.filter(billable=True).exclude(pricing_category="")
    behind: set[str] = set()
    for model in tracked_models():
        manager: Any = model.objects  # type: ignore[attr-defined]
        for status, (state, _) in _STATE.items():
            behind.update(
                manager.filter(
                    message_id__in=recent.filter(status=status.value).values("message_id"),
                    state__lt=state,
                ).values_list("message_id", flat=True)
            )
        behind.update(
            manager.filter(
                message_id__in=billable.values("message_id"), billed_category=""
            ).values_list("message_id", flat=True)
        )
    if behind:
        apply_known(behind)
    return len(behind)


def rows_per_statement(params_per_row: int) -> int:
    """How many rows one statement may carry under the connection's parameter limit."""
    limit = connection.features.max_query_params
    if limit is None:
        return MAX_ROWS_PER_STATEMENT
    return max(1, min(MAX_ROWS_PER_STATEMENT, limit // params_per_row))


# --- recording ----------------------------------------------------------------------------------

_EVENT_COLUMNS = (
    ("message_id", "text"),
    ("status", "text"),
    ("occurred_at", "timestamptz"),
    ("error_code", "integer"),
    ("error_title", "text"),
    ("pricing_category", "text"),
    ("billable", "boolean"),
    ("recorded_at", "timestamptz"),
)


def _insert_events(updates: list[StatusUpdate]) -> None:
    """INSERT … ON CONFLICT DO NOTHING: a status already known (a repeat) is kept as it was.
    Sorted by message id, so concurrent workers take the unique index's locks in the same
    order; the sort is stable, so of two equal statuses in one batch the first is kept."""
    stamp = _timestamps()
    now = stamp(timezone.now())
    rows = [
        (
            u.message_id,
            u.status.value,
            stamp(u.timestamp),
            u.error_code,
            (u.error_title or "")[:ERROR_TITLE_LENGTH],
            (u.pricing_category or "")[:CATEGORY_LENGTH],
            u.billable,
            now,
        )
        for u in sorted(updates, key=lambda u: u.message_id)
    ]
    table = connection.ops.quote_name(StatusEvent._meta.db_table)
    names = ", ".join(name for name, _ in _EVENT_COLUMNS)
    with connection.cursor() as cursor:
        for chunk in _chunks(rows, MAX_ROWS_PER_STATEMENT):
            # WHERE true: SQLite needs it to tell the upsert clause from a join's ON.
            cursor.execute(
                f"{_batch_table(_EVENT_COLUMNS)} INSERT INTO {table} ({names})"  # noqa: S608 -- names from model metadata, values are parameters
                " SELECT * FROM v WHERE true ON CONFLICT (message_id, status) DO NOTHING",
                [_json(chunk)],
            )


# --- moving messages forward ----------------------------------------------------------------


@dataclass(slots=True)
class _Progress:
    """What a batch says about one message, as if applied one status at a time in arrival
    order: the statuses that go beyond everything before them in the batch (so a `sent`
    after `read` is left out), the failure that came with FAILED, the first billable
    pricing category."""

    top: int = 0
    stamps: dict[str, datetime] = field(default_factory=dict)
    error_code: int | None = None
    error_title: str = ""
    billed: str = ""

    def add(self, update: StatusUpdate) -> None:
        state, stamp = _STATE[update.status]
        if state > self.top:
            self.top = state
            self.stamps[stamp] = update.timestamp
            if state == SendState.FAILED:
                self.error_code = update.error_code
                self.error_title = (update.error_title or "")[:ERROR_TITLE_LENGTH]
        if not self.billed and update.billable is True and update.pricing_category:
            self.billed = update.pricing_category.upper()[:BILLED_LENGTH]


_PROGRESS_COLUMNS = (
    ("mid", "text"),
    ("top", "integer"),
    *((stamp, "timestamptz") for stamp in STAMPS),
    ("code", "integer"),
    ("title", "text"),
    ("billed", "text"),
)


def _advance(updates: Sequence[StatusUpdate]) -> None:
    """One UPDATE per tracked model and chunk of messages (see _update_sql). Rows are sorted
    by message id, so concurrent workers lock them in the same order."""
    progress: dict[str, _Progress] = {}
    for update in updates:
        found = progress.get(update.message_id)
        if found is None:
            found = progress[update.message_id] = _Progress()
        found.add(update)
    stamp = _timestamps()
    rows = [
        (
            message_id,
            p.top,
            *(stamp(p.stamps[s]) if s in p.stamps else None for s in STAMPS),
            p.error_code,
            p.error_title,
            p.billed,
        )
        for message_id, p in sorted(progress.items())
    ]
    with connection.cursor() as cursor:
        for chunk in _chunks(rows, MAX_ROWS_PER_STATEMENT):
            batch = [_json(chunk)]
            for model in tracked_models():
                cursor.execute(
                    _batch_table(_PROGRESS_COLUMNS) + _update_sql(model._meta.db_table), batch
                )


@cache
def _update_sql(table: str) -> str:
    """The row takes from the batch only what it is behind on. Each stamp is set when the row's
    state is below that stamp's state, and the state becomes the batch's highest if that is
    higher. That equals applying the statuses one at a time: each would have moved the row
    exactly when its state was above both the row's state and every status before it in the
    batch (`_Progress` has left out the others). The billed category is set while empty,
    whatever the state. Every expression reads the row as it was before the UPDATE."""
    t = connection.ops.quote_name(table)
    sets = [f"state = CASE WHEN v.top > {t}.state THEN v.top ELSE {t}.state END"]
    for state, stamp in _STATE.values():
        behind = f"v.{stamp} IS NOT NULL AND {t}.state < {state.value}"
        sets.append(f"{stamp} = CASE WHEN {behind} THEN v.{stamp} ELSE {t}.{stamp} END")
        if state == SendState.FAILED:
            sets.append(f"error_code = CASE WHEN {behind} THEN v.code ELSE {t}.error_code END")
            sets.append(f"last_error = CASE WHEN {behind} THEN v.title ELSE {t}.last_error END")
    sets.append(
        f"billed_category = CASE WHEN {t}.billed_category = '' THEN v.billed"
        f" ELSE {t}.billed_category END"
    )
    where = (
        f"{t}.message_id = v.mid"
        f" AND ({t}.state < v.top OR ({t}.billed_category = '' AND v.billed <> ''))"
    )
    return f" UPDATE {t} SET {', '.join(sets)} FROM v WHERE {where}"  # noqa: S608 -- names from model metadata, values are parameters


# --- batches as tables --------------------------------------------------------------------------


@cache
def _batch_table(columns: tuple[tuple[str, str], ...]) -> str:
    """`WITH v (…) AS (…)`: the rows of one parameter, a JSON array of arrays, as a table.

    One parameter however many rows: no parameter limit applies (SQLite's is 32,766 or even
    999, PostgreSQL's 65,535), and no time goes into binding thousands of them (psycopg binds
    on the client and splits a query at every placeholder; Django rewrites each one for
    SQLite). The JSON is written and read in C. SQLite's JSON functions are built in since
    3.38 and were needed before (JSONField).
    """
    names = ", ".join(name for name, _ in columns)
    if connection.vendor == "postgresql":
        values = ", ".join(
            f"(e->>{i})::{kind}" if kind != "text" else f"e->>{i}"
            for i, (_, kind) in enumerate(columns)
        )
        # jsonb: parsed once; `->>` on json would parse the element again for every column.
        return f"WITH v ({names}) AS (SELECT {values} FROM jsonb_array_elements(%s::jsonb) e)"  # noqa: S608 -- no values
    values = ", ".join(f"json_extract(e.value, '$[{i}]')" for i in range(len(columns)))
    return f"WITH v ({names}) AS (SELECT {values} FROM json_each(%s) e)"  # noqa: S608 -- no values


def _json(rows: Sequence[tuple[Any, ...]]) -> str:
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))


def _timestamps() -> Callable[[datetime], str]:
    """Datetimes as the database's text: how Django stores them on SQLite, ISO 8601 with the
    offset for PostgreSQL. Remembered per batch, whose statuses share their few seconds."""
    adapt: Callable[[datetime], Any] = connection.ops.adapt_datetimefield_value
    if connection.vendor == "postgresql":
        adapt = datetime.isoformat
    known: dict[datetime, str] = {}

    def text(value: datetime) -> str:
        found = known.get(value)
        if found is None:
            found = known[value] = str(adapt(value))
        return found

    return text


def _as_update(event: StatusEvent) -> StatusUpdate:
    return StatusUpdate(
        message_id=event.message_id,
        status=DeliveryStatus(event.status),
        timestamp=event.occurred_at,
        recipient="",
        error_code=event.error_code,
        error_title=event.error_title,
        pricing_category=event.pricing_category or None,
        billable=event.billable,
    )


def _chunks[T](items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
