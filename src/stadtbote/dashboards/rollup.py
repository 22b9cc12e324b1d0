"""The rollup: brings the dashboards' counters (models.py) up to date from the big tables.

Run every minute by the worker (tasks.py) and by `stadtbote refresh_dashboards`. Every step
overwrites counts it computed afresh instead of adding to them, so running it twice, or
over the same minutes again, counts nothing twice. A lock on the one Rollup row keeps two
workers from doing the same work at the same time; the second one skips.

1. The consent ledger's flows per local day, recounted for the days since the last run
   (all days on the first run) through the (action, occurred_at) index. Counting new rows
   by an id watermark would be cheaper still, but on PostgreSQL ids are not handed out in
   commit order: a row with a smaller id can become visible after a larger one was seen.
   Recounting the days from a margin before the last run cannot miss it.
2. Today's active subscribers (a count on the status index).
3. Active subscribers per topic and district, at most every AUDIENCE_EVERY: the one join
   over the subscribers' choices, too costly for every minute with a million of them.
4. The figures of the posts that may have changed: those being sent or paused, those
   without figures yet, those that finished or were cancelled after their last count, and
   those touched by status events or reactions recorded since the last run (a late `read`
   or a new emoji on an old post); an old post nobody touches is not recounted. Opt-outs in
   the 24 hours after a post are recounted until those 24 hours are over.
5. The citizens' signals per local day (reactions.py): reactions and forwarded messages,
   recounted for the days since the last run, and the reactions of earlier days where a
   webhook recorded since then carried a tap of such a day.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate

from stadtbote.broadcasts import costs, reports
from stadtbote.broadcasts import funnel as funnels
from stadtbote.broadcasts import reactions as post_reactions
from stadtbote.broadcasts.models import Delivery, Post, PostReaction
from stadtbote.channels.models import StatusEvent
from stadtbote.dashboards import reactions
from stadtbote.dashboards.days import MARGIN, day_start, local_day, zone
from stadtbote.dashboards.models import AudienceDay, PostFigures, Rollup, SubscriberDay
from stadtbote.subscribers.models import ConsentEvent, District, Subscriber, Topic

log = logging.getLogger(__name__)

AUDIENCE_EVERY = timedelta(minutes=10)
_FLOWS = {
    ConsentEvent.Action.REQUESTED: "requested",
    ConsentEvent.Action.CONFIRMED: "confirmed",
    ConsentEvent.Action.IMPORTED: "imported",
    ConsentEvent.Action.WITHDRAWN: "withdrawn",
    ConsentEvent.Action.EXPIRED: "expired",
    ConsentEvent.Action.ERASED: "erased",
}
_OPEN = [Post.Status.SENDING, Post.Status.PAUSED]


@dataclass(frozen=True)
class Result:
    ran: bool  # False: another worker was running it
    days: int = 0
    posts: int = 0
    opt_outs: int = 0
    audience: bool = False
    signal_days: int = 0


def refresh(now: datetime) -> Result:
    Rollup.objects.get_or_create(pk=1)
    with transaction.atomic():
        state = Rollup.objects.select_for_update(skip_locked=True).filter(pk=1).first()
        if state is None:
            return Result(ran=False)
        days = _flows(state.ran_at, now)
        _snapshot(now)
        audience = False
        if state.audience_at is None or now - state.audience_at >= AUDIENCE_EVERY:
            _audience(now)
            state.audience_at = now
            audience = True
        posts, opt_outs = _posts(state.statuses_seen_at, now)
        signal_days = reactions.recount_days(state.ran_at, now)
        state.ran_at = now
        state.statuses_seen_at = now
        state.save()
    result = Result(
        ran=True,
        days=days,
        posts=posts,
        opt_outs=opt_outs,
        audience=audience,
        signal_days=signal_days,
    )
    log.info("dashboards refreshed", extra={"rollup": result.__dict__})
    return result


def _flows(last_run: datetime | None, now: datetime) -> int:
    events = ConsentEvent.objects.filter(action__in=list(_FLOWS))
    first = None
    if last_run is not None:
        first = local_day(last_run - MARGIN)
        events = events.filter(occurred_at__gte=day_start(first))
    counts: dict[date, dict[str, int]] = {}
    rows = (
        events.annotate(day=TruncDate("occurred_at", tzinfo=zone()))
        .values_list("day", "action")
        .annotate(n=Count("id"))
        .order_by()
    )
    for day, action, n in rows:
        counts.setdefault(day, {})[_FLOWS[action]] = n
    # Days in the recounted range with no event any more (none can vanish from an
    # append-only ledger, but a day may have had none) get zeros, not stale counts.
    if first is not None:
        day = first
        while day <= local_day(now):
            counts.setdefault(day, {})
            day += timedelta(days=1)
    SubscriberDay.objects.bulk_create(
        [
            SubscriberDay(day=day, **{field: flows.get(field, 0) for field in _FLOWS.values()})
            for day, flows in counts.items()
        ],
        update_conflicts=True,
        unique_fields=["day"],
        update_fields=list(_FLOWS.values()),
    )
    return len(counts)


def _snapshot(now: datetime) -> None:
    active = Subscriber.objects.filter(status=Subscriber.Status.ACTIVE).count()
    SubscriberDay.objects.update_or_create(day=local_day(now), defaults={"active": active})


def _audience(now: datetime) -> None:
    day = local_day(now)
    rows = []
    for kind, through, column, refs in [
        (AudienceDay.Kind.TOPIC, Subscriber.topics.through, "topic_id", Topic.objects),
        (AudienceDay.Kind.DISTRICT, Subscriber.districts.through, "district_id", District.objects),
    ]:
        counts = dict(
            through.objects.filter(subscriber__status=Subscriber.Status.ACTIVE)
            .values_list(column)
            .annotate(n=Count("id"))
            .order_by()
        )
        for ref in refs.values_list("pk", flat=True):
            rows.append(AudienceDay(day=day, kind=kind, ref=ref, active=counts.get(ref, 0)))
    AudienceDay.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["day", "kind", "ref"],
        update_fields=["active"],
    )


def _posts(seen_at: datetime | None, now: datetime) -> tuple[int, int]:
    """`seen_at`: the last run's time (Rollup.statuses_seen_at, for reactions too)."""
    started = Post.objects.filter(send_started_at__isnull=False)
    changed = (
        Q(status__in=_OPEN)
        | Q(figures__isnull=True)
        | Q(sent_at__gt=F("figures__refreshed_at"))
        | Q(cancelled_at__gt=F("figures__refreshed_at"))
    )
    ids = set(started.filter(changed).values_list("pk", flat=True))
    if seen_at is not None:
        recent = StatusEvent.objects.filter(recorded_at__gte=seen_at - MARGIN)
        ids |= set(
            Delivery.objects.filter(message_id__in=recent.values("message_id"))
            .values_list("post_id", flat=True)
            .distinct()
        )
        # A new, changed or withdrawn emoji; by when it was stored, not when it was tapped.
        ids |= set(
            PostReaction.objects.filter(recorded_at__gte=seen_at - MARGIN)
            .values_list("post_id", flat=True)
            .distinct()
        )
    for post in started.filter(pk__in=ids):
        _count_post(post, now)
    # Only the opt-outs of the other posts still inside their 24 hours.
    fresh = started.filter(figures__opt_outs_final=False).exclude(pk__in=ids)
    opt_outs = 0
    for post in fresh:
        final = _opt_outs_final(post, now)
        PostFigures.objects.filter(post=post).update(
            opt_outs_24h=reports.opt_outs_after(post), opt_outs_final=final
        )
        opt_outs += 1
    return len(ids), opt_outs


def _opt_outs_final(post: Post, now: datetime) -> bool:
    assert post.send_started_at is not None
    return now - post.send_started_at >= reports.OPT_OUT_WINDOW + MARGIN


def _count_post(post: Post, now: datetime) -> None:
    counts = funnels.funnel(post, now)
    PostFigures.objects.update_or_create(
        post=post,
        defaults={
            "total": counts.total,
            "queued": counts.queued,
            "held": counts.held,
            "sending": counts.sending,
            "sent": counts.sent,
            "delivered": counts.delivered,
            "read": counts.read,
            "failed": counts.failed,
            "failed_by_reason": counts.failed_by_reason,
            "reactions": post_reactions.counts(post),
            "actual_cost": costs.actual(post),
            "opt_outs_24h": reports.opt_outs_after(post),
            "opt_outs_final": _opt_outs_final(post, now),
            "refreshed_at": now,
        },
    )
