"""What the dashboards show, read from the counters only (and the small Post, Topic and
District tables): never from deliveries, subscribers or the consent ledger, so a page costs
the same with ten subscribers and with a million."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings

from stadtbote.broadcasts.models import ChannelPosting, Post
from stadtbote.broadcasts.reactions import ranked
from stadtbote.dashboards.models import (
    AudienceDay,
    PostFigures,
    ReactionDay,
    Rollup,
    SubscriberDay,
)
from stadtbote.subscribers.models import District, Topic

RANGES = (30, 90, 365)
RECENT_POSTS = 20
MONTHS = 12


@dataclass(frozen=True)
class Day:
    day: date
    active: int | None
    estimated: bool  # derived backwards from the ledger's flows, not counted that day
    joined: int  # confirmed or imported
    left: int  # withdrawn


@dataclass(frozen=True)
class Share:
    name: str
    active: int


@dataclass(frozen=True)
class PostRow:
    post: Post
    figures: PostFigures | None
    top_failures: list[tuple[str, int]]
    # In the chat, per emoji, most frequent first (counted by the rollup); {} before that.
    reactions: dict[str, int]
    # In the WhatsApp Channel: typed in by staff, a total (None: not recorded).
    channel_reactions: int | None


@dataclass(frozen=True)
class SignalDay:
    day: date
    reactions: int
    by_emoji: dict[str, int]
    forwarded: int


@dataclass(frozen=True)
class Month:
    month: date
    cost: Decimal


def as_of() -> datetime | None:
    return Rollup.objects.filter(pk=1).values_list("ran_at", flat=True).first()


def subscriber_days(first: date, last: date) -> list[Day]:
    """Every day from first to last. A day before the first rollup has no count of its own:
    it is the next day's count less that day's net flow (confirmed and imported, less
    withdrawn). Erasures are not subtracted: the ledger does not say whether the erased
    person was still subscribed."""
    rows = {r.day: r for r in SubscriberDay.objects.filter(day__gte=first)}
    days: list[Day] = []
    later: int | None = None
    later_net = 0
    day = max([last, *rows])
    while day >= first:
        row = rows.get(day)
        joined = (row.confirmed + row.imported) if row else 0
        left = row.withdrawn if row else 0
        estimated = row is None or row.active is None
        if not estimated and row is not None:
            active: int | None = row.active
        elif later is not None:
            active = max(later - later_net, 0)
        else:
            active = None
        if day <= last:
            days.append(Day(day, active, estimated, joined, left))
        later, later_net = active, joined - left
        day -= timedelta(days=1)
    days.reverse()
    return days


def audience() -> tuple[list[Share], list[Share]]:
    """Active subscribers per topic and per district at the last audience count."""
    latest = AudienceDay.objects.order_by("-day").values_list("day", flat=True).first()
    if latest is None:
        return [], []
    counts = {
        (kind, ref): n
        for kind, ref, n in AudienceDay.objects.filter(day=latest).values_list(
            "kind", "ref", "active"
        )
    }
    topics = [
        Share(t.name, counts.get((AudienceDay.Kind.TOPIC, t.pk), 0)) for t in Topic.objects.all()
    ]
    districts = [
        Share(d.name, counts.get((AudienceDay.Kind.DISTRICT, d.pk), 0))
        for d in District.objects.all()
    ]
    return topics, districts


def recent_posts(limit: int = RECENT_POSTS) -> list[PostRow]:
    posts = list(
        Post.objects.filter(send_started_at__isnull=False)
        .select_related("figures")
        .order_by("-send_started_at")[:limit]
    )
    reactions = dict(
        ChannelPosting.objects.filter(post__in=posts).values_list("post_id", "reactions")
    )
    rows = []
    for post in posts:
        figures = getattr(post, "figures", None)
        failures = figures.failed_by_reason if figures else {}
        top = sorted(failures.items(), key=lambda item: -item[1])[:3]
        chat = ranked(figures.reactions) if figures else {}
        rows.append(PostRow(post, figures, top, chat, reactions.get(post.pk)))
    return rows


def cost_by_month(today: date, months: int = MONTHS) -> list[Month]:
    """What Meta billed, by the month the post started to be sent, for the last `months`."""
    first = today.replace(day=1)
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    zone = ZoneInfo(settings.TIME_ZONE)
    start = datetime.combine(first, datetime.min.time(), tzinfo=zone)
    totals: dict[date, Decimal] = {}
    for started, cost in PostFigures.objects.filter(post__send_started_at__gte=start).values_list(
        "post__send_started_at", "actual_cost"
    ):
        if started is None:  # excluded by the filter; the type does not know it
            continue
        month = started.astimezone(zone).date().replace(day=1)
        totals[month] = totals.get(month, Decimal(0)) + cost
    result = []
    month = first
    for _ in range(months):
        result.append(Month(month, totals.get(month, Decimal(0))))
        month = (month + timedelta(days=32)).replace(day=1)
    return result


def signal_days(first: date, last: date) -> list[SignalDay]:
    """Every day from first to last with its reactions and forwarded messages (zeros for a
    day without a row: nothing was given, or it was before the first count)."""
    rows = {r.day: r for r in ReactionDay.objects.filter(day__gte=first, day__lte=last)}
    days = []
    day = first
    while day <= last:
        row = rows.get(day)
        days.append(
            SignalDay(day, row.reactions, ranked(row.by_emoji), row.forwarded)
            if row
            else SignalDay(day, 0, {}, 0)
        )
        day += timedelta(days=1)
    return days


def by_emoji(days: list[SignalDay]) -> list[tuple[str, int]]:
    """The reactions of these days per emoji, most frequent first."""
    totals: dict[str, int] = {}
    for day in days:
        for emoji, n in day.by_emoji.items():
            totals[emoji] = totals.get(emoji, 0) + n
    return sorted(totals.items(), key=lambda item: (-item[1], item[0]))
