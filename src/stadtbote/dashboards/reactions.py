"""The citizens' signals per local day, for the figures page: emoji reactions to posts (by
the day of the tap) and messages forwarded to the city's number (by the day received).

Recounted afresh, never incremented (ReactionDay), like the rest of the rollup:
1. The days since the last run (less the margin) are recounted whole: reactions, their split
   by emoji, and forwarded messages. On the first run, every day that has any.
2. A webhook can bring a tap of an earlier day long after it (Meta retries for days): the
   days of reactions stored since the last run are recounted too, their reactions only. Their
   forwarded messages are not: the handled-message ids behind that count are kept for a week
   only (retention.py), and recounting would wipe what was counted while they existed.

A reaction is kept as the citizen's current one, so a day counts the reactions given that day
and still standing when it was last counted; one changed later counts on the later day too,
where it was given again."""

from __future__ import annotations

from datetime import date, datetime

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate

from stadtbote.broadcasts.models import PostReaction
from stadtbote.dashboards.days import MARGIN, day_start, local_day, since, zone
from stadtbote.dashboards.models import ReactionDay
from stadtbote.dialogue.models import ReceivedMessage


def recount_days(last_run: datetime | None, now: datetime) -> int:
    """Brings ReactionDay up to date; the number of days counted."""
    if last_run is None:
        counted = _per_day(_given())
        forwarded = _forwarded_per_day(None)
        recent, late = set(counted) | set(forwarded), set[date]()
    else:
        first = local_day(last_run - MARGIN)
        recent = set(since(first, local_day(now)))
        late = _late_days(stored_since=last_run - MARGIN, before=first)
        counted = _per_day(_given().filter(reacted_at__gte=day_start(min(recent | late))))
        forwarded = _forwarded_per_day(first)
    _store(counted, forwarded, recent, with_forwarded=True)
    _store(counted, forwarded, late, with_forwarded=False)
    return len(recent) + len(late)


def _late_days(*, stored_since: datetime, before: date) -> set[date]:
    """Days before `before` of which a tap was stored since then."""
    return set(
        _given()
        .filter(recorded_at__gte=stored_since, reacted_at__lt=day_start(before))
        .annotate(day=TruncDate("reacted_at", tzinfo=zone()))
        .values_list("day", flat=True)
        .distinct()
    )


def _store(
    counted: dict[date, dict[str, int]],
    forwarded: dict[date, int],
    days: set[date],
    *,
    with_forwarded: bool,
) -> None:
    """Overwrites these days' rows (days without any get zeros, not stale counts)."""
    fields = ["reactions", "by_emoji", "forwarded"] if with_forwarded else ["reactions", "by_emoji"]
    ReactionDay.objects.bulk_create(
        [
            ReactionDay(
                day=day,
                reactions=sum(counted.get(day, {}).values()),
                by_emoji=counted.get(day, {}),
                forwarded=forwarded.get(day, 0),
            )
            for day in sorted(days)
        ],
        update_conflicts=True,
        unique_fields=["day"],
        update_fields=fields,
    )


def _given() -> QuerySet[PostReaction]:
    return PostReaction.objects.exclude(emoji="")  # an empty emoji: taken back


def _per_day(reactions: QuerySet[PostReaction]) -> dict[date, dict[str, int]]:
    """{day: {emoji: count}}."""
    rows = (
        reactions.annotate(day=TruncDate("reacted_at", tzinfo=zone()))
        .values_list("day", "emoji")
        .annotate(n=Count("id"))
        .order_by()
    )
    days: dict[date, dict[str, int]] = {}
    for day, emoji, n in rows:
        days.setdefault(day, {})[emoji] = n
    return days


def _forwarded_per_day(first: date | None) -> dict[date, int]:
    messages = ReceivedMessage.objects.filter(forwarded=True)
    if first is not None:
        messages = messages.filter(received_at__gte=day_start(first))
    rows = (
        messages.annotate(day=TruncDate("received_at", tzinfo=zone()))
        .values_list("day")
        .annotate(n=Count("id"))
        .order_by()
    )
    return dict(rows)
