"""Emoji reactions on posts: kept per delivery (the citizen's current one), counted per post.

Meta sends a reaction as a message naming the message reacted to. Only reactions to a post's
message by the person it was sent to count; reactions to chat answers, to messages we do not
know, or from anyone else are ignored. Webhooks can come twice or out of order: each
reaction keeps the time of the tap it records, and an older one never replaces a newer one;
of two made within the same second (Meta's times are whole seconds) the one that arrived
later counts, so the dialogue applies each reaction message once (by its id).
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.db.models import Count

from stadtbote.broadcasts.models import Delivery, Post, PostReaction
from stadtbote.channels.types import Reaction
from stadtbote.subscribers import actions as subscribers
from stadtbote.subscribers.models import Subscriber

log = logging.getLogger(__name__)

MAX_EMOJI = 32  # a flag or a family of skin tones is a few code points; more is not an emoji


def record(event: Reaction, sender: Subscriber | None = None) -> bool:
    """Stores the reaction; True if it changed what is counted. `sender`: the subscriber
    the reacting number belongs to, where the caller has looked it up already."""
    emoji = (event.emoji or "").strip()
    if len(emoji) > MAX_EMOJI:
        log.info("reaction ignored: not an emoji")
        return False
    delivery = (
        Delivery.objects.filter(message_id=event.target_message_id)
        .only("id", "post_id", "subscriber_id")
        .first()
    )
    if delivery is None or delivery.subscriber_id is None:
        return False  # a chat answer, an unknown message, or an erased subscriber's
    if sender is None:
        sender = subscribers.find(event.sender)
    if sender is None or sender.pk != delivery.subscriber_id:
        log.info("reaction on delivery %s from someone else ignored", delivery.pk)
        return False
    for _attempt in range(2):
        current = PostReaction.objects.select_for_update().filter(delivery=delivery).first()
        if current is not None:
            if current.reacted_at > event.timestamp or current.emoji == emoji:
                return False
            current.emoji, current.reacted_at = emoji, event.timestamp
            current.save(update_fields=["emoji", "reacted_at", "recorded_at"])
            return True
        try:
            with transaction.atomic():
                PostReaction.objects.create(
                    delivery=delivery,
                    post_id=delivery.post_id,
                    subscriber_id=delivery.subscriber_id,
                    emoji=emoji,
                    reacted_at=event.timestamp,
                )
            return True
        except IntegrityError:
            continue  # stored by another worker just now; compare with that one
    return False


def counts(post: Post) -> dict[str, int]:
    """Current reactions per emoji, most frequent first."""
    rows = (
        PostReaction.objects.filter(post=post)
        .exclude(emoji="")
        .values_list("emoji")
        .annotate(n=Count("id"))
        .order_by("-n", "emoji")
        .values_list("emoji", "n")
    )
    return dict(rows)


def ranked(counts: dict[str, int]) -> dict[str, int]:
    """Counts most frequent first (ties by emoji): the order a stored copy lost, as
    PostgreSQL's jsonb keeps keys in its own order."""
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
