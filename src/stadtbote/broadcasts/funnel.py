"""How a post is landing: the funnel from queued to read, what is held and why, what failed
and why, and while it is being sent, the progress and when it will be done."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from stadtbote.broadcasts import timing
from stadtbote.broadcasts.delivering import TIER_HOLD
from stadtbote.broadcasts.models import Delivery, Post
from stadtbote.channels.models import SendState

# Reached Meta: counted as sent even before Meta's own `sent` status arrives.
_REACHED = [SendState.ACCEPTED, SendState.SENT, SendState.DELIVERED, SendState.READ]
_WAITING = [SendState.QUEUED, SendState.HELD, SendState.SENDING]


@dataclass
class Funnel:
    total: int = 0
    queued: int = 0
    held: int = 0
    sending: int = 0
    sent: int = 0  # reached Meta (accepted, sent, delivered or read)
    delivered: int = 0  # delivered or read
    read: int = 0
    failed: int = 0
    held_by_reason: dict[str, int] = field(default_factory=dict)
    failed_by_reason: dict[str, int] = field(default_factory=dict)
    progress: float = 0.0  # share of deliveries no longer waiting, 0..1
    eta: datetime | None = None  # when the last delivery should have gone out

    @property
    def waiting(self) -> int:
        return self.queued + self.held + self.sending


def _reason(code: int | None, text: str) -> str:
    if code is not None:
        return f"{code} {text}".strip()
    return text or "unknown"


def funnel(post: Post, now: datetime | None = None) -> Funnel:
    now = now or timezone.now()
    result = Funnel()
    deliveries = Delivery.objects.filter(post=post)
    for state, n in deliveries.values_list("state").annotate(n=Count("id")):
        result.total += n
        if state == SendState.QUEUED:
            result.queued += n
        elif state == SendState.HELD:
            result.held += n
        elif state == SendState.SENDING:
            result.sending += n
        elif state == SendState.FAILED:
            result.failed += n
        if state in _REACHED:
            result.sent += n
        if state in (SendState.DELIVERED, SendState.READ):
            result.delivered += n
        if state == SendState.READ:
            result.read += n
    if result.held:
        held = deliveries.filter(state=SendState.HELD).values_list("last_error")
        result.held_by_reason = dict(held.annotate(n=Count("id")).order_by("-n"))
    if result.failed:
        failed = (
            deliveries.filter(state=SendState.FAILED)
            .values_list("error_code", "last_error")
            .annotate(n=Count("id"))
            .order_by("-n")
        )
        for code, text, n in failed:
            key = _reason(code, text)
            result.failed_by_reason[key] = result.failed_by_reason.get(key, 0) + n
    if result.total:
        result.progress = round(1 - result.waiting / result.total, 4)
    if result.waiting and post.status in (Post.Status.SENDING, Post.Status.SCHEDULED):
        result.eta = eta(post, result, now)
    return result


def eta(post: Post, counts: Funnel, now: datetime) -> datetime:
    """When the post should be out: the waiting deliveries at the configured pace (or the
    pace observed in the last minute, when slower), after the quiet hours for a non-urgent
    post, and a day more for each day's worth of Meta's limit of unique users it waits for."""
    start = now
    if post.status == Post.Status.SCHEDULED and post.publish_at and post.publish_at > now:
        start = post.publish_at
    quiet = None if post.urgent else timing.quiet_until(start)
    if quiet is not None:
        start = quiet
    pace = float(settings.WHATSAPP_MESSAGES_PER_SECOND or 0)
    recent = Delivery.objects.filter(
        dispatched_at__gte=now - timedelta(minutes=1), state__in=_REACHED
    ).count()
    observed = recent / 60.0
    if post.status == Post.Status.SENDING and observed and (not pace or observed < pace):
        pace = observed
    seconds = counts.waiting / pace if pace else 0.0
    done = start + timedelta(seconds=seconds)
    limit = settings.WHATSAPP_DAILY_UNIQUE_USERS
    waiting_for_tier = counts.held_by_reason.get(TIER_HOLD, 0)
    if limit and waiting_for_tier:
        done = max(done, now + timedelta(days=math.ceil(waiting_for_tier / limit)))
    return done
