"""A citizen's tap on a poll: counted once, changeable until closing, never from a forged id.

Webhooks come late, twice and out of order. Twice is caught before this (the dialogue keeps
each message id once). Out of order: a single-answer vote keeps the time of the tap it
records, and an older tap arriving later changes nothing. A several-answers poll toggles one
answer per tap, and toggles commute, so the order they arrive in does not matter.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef

from stadtbote.broadcasts.models import Delivery, Post
from stadtbote.channels.types import OutboundMessage
from stadtbote.polls import messages
from stadtbote.polls.models import IgnoredTap, Option, Poll, Vote
from stadtbote.subscribers.models import Subscriber

log = logging.getLogger(__name__)


def on_tap(subscriber: Subscriber, choice_id: str, at: datetime) -> OutboundMessage | None:
    """What a tap does and the answer to it (None: no answer, e.g. for a forged tap)."""
    parsed = messages.parse_choice(choice_id)
    # Whether the poll went to chosen districts comes with it: for a poll to the whole city
    # no tap needs to look up the subscriber's district.
    split = Exists(Post.districts.through.objects.filter(post_id=OuterRef("post_id")))
    poll = (
        Poll.objects.select_related("post").annotate(split=split).filter(pk=parsed[0]).first()
        if parsed is not None
        else None
    )
    if parsed is None or poll is None:
        log.info("tap on an unknown poll by subscriber %s ignored", subscriber.pk)
        return None
    key, language = parsed[1], subscriber.language
    # Only those the poll was sent to vote: a tap from anyone else is forged or misrouted.
    if not Delivery.objects.filter(post_id=poll.post_id, subscriber=subscriber).exists():
        _reject(poll, "not sent to this subscriber")
        return None
    cancelled = poll.post.status == Post.Status.CANCELLED
    if key == messages.OPEN:
        if cancelled or not poll.is_open(at):
            return messages.closed(language, poll)
        return messages.ask(poll, list(poll.options.all()), language)
    option = poll.options.filter(key=key).first()
    if option is None:
        _reject(poll, "no such answer")
        return None
    if cancelled or not poll.is_open(at):
        IgnoredTap.objects.create(poll=poll, kind=IgnoredTap.Kind.LATE)
        return messages.closed(language, poll)
    if poll.multiple:
        return messages.selection(language, _toggle(poll, option, subscriber, at))
    if _choose(poll, option, subscriber, at):
        return messages.counted(language, option.label, poll)
    return None  # an older tap that arrived after a newer one


def _reject(poll: Poll, why: str) -> None:
    IgnoredTap.objects.create(poll=poll, kind=IgnoredTap.Kind.REJECTED)
    log.info("tap on poll %s rejected: %s", poll.pk, why)


def _district(poll: Poll, subscriber: Subscriber) -> int | None:
    """The subscriber's first district among those the poll was sent to, if it was split."""
    if not getattr(poll, "split", True):  # known from the look-up in on_tap
        return None
    targets = Post.districts.through.objects.filter(post_id=poll.post_id).values("district_id")
    found: int | None = (
        subscriber.districts.filter(pk__in=targets)
        .order_by("position", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    return found


def _choose(poll: Poll, option: Option, subscriber: Subscriber, at: datetime) -> bool:
    """Sets the one vote of a single-answer poll; False if a newer tap is already recorded."""
    district = _district(poll, subscriber)
    for _attempt in range(2):
        current = (
            Vote.objects.select_for_update()
            .filter(poll=poll, subscriber=subscriber, slot=0)
            .first()
        )
        if current is not None:
            if current.cast_at > at:
                return False
            current.option, current.cast_at, current.district_id = option, at, district
            current.save(update_fields=["option", "cast_at", "district"])
            return True
        try:
            with transaction.atomic():
                Vote.objects.create(
                    poll=poll, option=option, subscriber=subscriber, slot=0,
                    district_id=district, cast_at=at,
                )  # fmt: skip
            return True
        except IntegrityError:
            continue  # another worker recorded this subscriber's first tap just now: update it
    raise RuntimeError("vote neither created nor found")


def _toggle(poll: Poll, option: Option, subscriber: Subscriber, at: datetime) -> list[str]:
    """Adds or takes back one answer of a several-answers poll; returns the labels chosen."""
    mine = Vote.objects.filter(poll=poll, subscriber=subscriber)
    if not mine.filter(slot=option.position).delete()[0]:
        try:
            with transaction.atomic():
                Vote.objects.create(
                    poll=poll, option=option, subscriber=subscriber, slot=option.position,
                    district_id=_district(poll, subscriber), cast_at=at,
                )  # fmt: skip
        except IntegrityError:
            # The same answer tapped twice at once, in two workers: two toggles, none left.
            mine.filter(slot=option.position).delete()
    return list(mine.order_by("slot").values_list("option__label", flat=True))
