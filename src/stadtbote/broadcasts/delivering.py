"""What each claimed delivery becomes at send time: the post as free-form text (inside the
citizen's 24-hour window) or as its template (outside), or a hold (quiet hours, the daily cap,
Meta's daily limit of unique users), or the reason it is not sent at all."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Min
from django.utils import timezone

from stadtbote.broadcasts import rendering, sending_rules, templates, timing
from stadtbote.broadcasts.models import Delivery, Post
from stadtbote.channels.dispatch import Hold
from stadtbote.channels.models import SendState, TrackedMessage
from stadtbote.channels.sending import Outgoing
from stadtbote.channels.types import OutboundMessage
from stadtbote.polls.messages import ask, invitation
from stadtbote.polls.models import poll_of
from stadtbote.subscribers.models import Subscriber

TIER_WINDOW = timedelta(hours=24)
# The hold reason the funnel counts as waiting for Meta's tier (its ETA counts the days).
TIER_HOLD = "Meta's daily limit of unique users reached"
# A delivery that reached Meta and did not fail counts towards the cap and the tier.
_COUNTED = [SendState.ACCEPTED, SendState.SENT, SendState.DELIVERED, SendState.READ]


def sending_posts(now: datetime) -> list[tuple[int, bool]]:
    """(id, urgent) of the posts being sent, urgent ones first, then the oldest. During the
    quiet hours only urgent posts are sent at all (the others are held in bulk by
    hold_for_quiet_hours). Claiming post by post keeps each claim on one post's rows instead
    of joining every waiting delivery with its post."""
    posts = Post.objects.filter(status=Post.Status.SENDING)
    if timing.quiet_until(now) is not None:
        posts = posts.filter(urgent=True)
    return list(posts.order_by("-urgent", "id").values_list("id", "urgent"))


# What the build step reads of a subscriber; everything else stays in the database.
_SUBSCRIBER_FIELDS = (
    "id",
    "phone_encrypted",
    "status",
    "paused_until",
    "unreachable_code",
    "marketing_stopped",
    "last_inbound_at",
)


def load_claimed(ids: list[int]) -> list[TrackedMessage]:
    """The claimed deliveries with their post and subscriber, read fresh (a Stop or a pause
    since the fan-out counts). Three queries and only the fields the build step needs: the
    post and its template once per batch, not once per row."""
    rows = list(
        Delivery.objects.filter(id__in=ids, state=SendState.SENDING).only(
            "id", "post_id", "subscriber_id", "attempts", "state"
        )
    )
    posts = Post.objects.select_related("template", "poll").in_bulk({r.post_id for r in rows})
    subscribers = Subscriber.objects.only(*_SUBSCRIBER_FIELDS).in_bulk(
        {r.subscriber_id for r in rows if r.subscriber_id is not None}
    )
    post_field, subscriber_field = Delivery.post.field, Delivery.subscriber.field
    for row in rows:
        post_field.set_cached_value(row, posts[row.post_id])
        subscriber_field.set_cached_value(
            row, None if row.subscriber_id is None else subscribers.get(row.subscriber_id)
        )
    return list(rows)


def hold_for_quiet_hours(now: datetime) -> int:
    """One statement holds every waiting non-urgent delivery until the quiet hours end, so
    the dispatcher does not claim them one batch at a time just to put them back."""
    until = timing.quiet_until(now)
    if until is None:
        return 0
    return Delivery.objects.filter(
        state=SendState.QUEUED,
        post__urgent=False,
        post__status__in=[Post.Status.SENDING, Post.Status.PAUSED],
    ).update(state=SendState.HELD, next_attempt_at=until, last_error="quiet hours")


def message_for(post: Post, *, window_open: bool) -> OutboundMessage | None:
    """The post as it goes to one citizen; None when the window is closed and the post has
    no approved template."""
    poll = poll_of(post)
    if poll is not None:
        options = list(poll.options.all())
        return ask(poll, options, post.language) if window_open else invitation(poll, options)
    if window_open:
        text = rendering.message_text(post)
        image = rendering.image_url(post)
        if image:
            return OutboundMessage(text=text, image_url=image)
        return OutboundMessage(text=text, preview_url=bool(post.link) or "http" in text)
    if post.template is not None and post.template.is_usable:
        return templates.fill(post.template, post)
    return None


class _Batch:
    """Counts looked up once per batch: who already had how many posts today, and how much of
    Meta's daily limit of unique users is left."""

    def __init__(self, rows: list[Delivery], now: datetime) -> None:
        self.now = now
        subscribers = {r.subscriber_id for r in rows if r.subscriber_id is not None}
        self.today = Counter[int]()
        # Read once per batch: the cap holds for the whole batch even if it changes meanwhile.
        self.daily_cap = sending_rules.current().daily_cap
        if self.daily_cap > 0:  # without a cap nobody's count matters
            self.today.update(
                dict(
                    Delivery.objects.filter(
                        subscriber_id__in=subscribers,
                        dispatched_at__gte=timing.start_of_day(now),
                        post__urgent=False,
                        state__in=_COUNTED,
                    )
                    .values_list("subscriber_id")
                    .annotate(n=Count("id"))
                    .values_list("subscriber_id", "n")
                )
            )
        self._tier_rows = Delivery.objects.filter(
            via_template=True, dispatched_at__gt=now - TIER_WINDOW, state__in=_COUNTED
        )
        self._tier_left: int | None = None
        self._reached: set[int] | None = None
        self._subscribers = subscribers
        # The same post goes to most rows of a batch: composed once per post and window.
        self._messages: dict[tuple[int, bool], OutboundMessage | None] = {}

    def message(self, post: Post, *, window_open: bool) -> OutboundMessage | None:
        key = (post.pk, window_open)
        if key not in self._messages:
            self._messages[key] = message_for(post, window_open=window_open)
        return self._messages[key]

    def take_daily(self, subscriber_id: int) -> bool:
        if self.daily_cap <= 0:  # no cap
            return True
        if self.today[subscriber_id] >= self.daily_cap:
            return False
        self.today[subscriber_id] += 1
        return True

    def take_tier(self, subscriber_id: int) -> bool:
        """Meta counts unique users per rolling 24 hours: a citizen reached with a template
        in that time costs nothing more."""
        limit = settings.WHATSAPP_DAILY_UNIQUE_USERS
        if not limit:
            return True
        if self._tier_left is None or self._reached is None:
            self._reached = set(
                self._tier_rows.filter(subscriber_id__in=self._subscribers).values_list(
                    "subscriber_id", flat=True
                )
            )
            used = self._tier_rows.values("subscriber_id").distinct().count()
            self._tier_left = limit - used
        if subscriber_id in self._reached:
            return True
        if self._tier_left <= 0:
            return False
        self._tier_left -= 1
        self._reached.add(subscriber_id)
        return True

    def tier_frees_at(self) -> datetime:
        oldest = self._tier_rows.aggregate(m=Min("dispatched_at"))["m"]
        return (oldest or self.now) + TIER_WINDOW


def build_batch(rows: list[TrackedMessage]) -> list[Outgoing | Hold | str]:
    now = timezone.now()
    deliveries: list[Any] = rows
    batch = _Batch(deliveries, now)
    out: list[Outgoing | Hold | str] = []
    for row in deliveries:
        out.append(_one(row, batch))
    return out


def _one(row: Delivery, batch: _Batch) -> Outgoing | Hold | str:
    subscriber, post, now = row.subscriber, row.post, batch.now
    # Checked at send time, not only at fan-out: a Stop is honoured before the next send.
    if subscriber is None:
        return "erased"
    reason = subscriber.why_not_to_send(now)
    if reason is not None:
        return reason
    if not post.urgent:
        quiet = timing.quiet_until(now)
        if quiet is not None:
            return Hold(quiet, "quiet hours")
        if not batch.take_daily(subscriber.pk):
            return Hold(timing.next_morning(now), "daily cap reached")
    window_open = subscriber.window_open(now)
    message = batch.message(post, window_open=window_open)
    if message is None:
        return "outside the 24-hour window and no approved template"
    if message.template is not None and not batch.take_tier(subscriber.pk):
        if not post.urgent:
            batch.today[subscriber.pk] -= 1  # the day's post did not go out after all
        return Hold(batch.tier_frees_at(), TIER_HOLD)
    return Outgoing(to=subscriber.phone, message=replace(message, tracker=f"d{row.pk}"))
