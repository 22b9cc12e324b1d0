"""A subscriber's deliveries in erasure and export, and their reactions in the export (the
reactions go with the subscriber row on erasure: cascade)."""

from __future__ import annotations

from typing import Any

from stadtbote.broadcasts.models import Delivery, PostReaction
from stadtbote.channels.models import SendState, StatusEvent
from stadtbote.subscribers.models import Subscriber


def anonymise_deliveries(subscriber: Subscriber, **_: Any) -> None:
    # Meta's message ids encode the recipient's number, so they go with the statuses kept
    # under them; the delivery rows stay, without a subscriber, for the posts' counts.
    deliveries = Delivery.objects.filter(subscriber=subscriber)
    StatusEvent.objects.filter(
        message_id__in=deliveries.exclude(message_id=None).values("message_id")
    ).delete()
    deliveries.update(subscriber=None, message_id=None)


def export_deliveries(subscriber: Subscriber, **_: Any) -> tuple[str, list[dict[str, Any]]]:
    rows = Delivery.objects.filter(subscriber=subscriber).select_related("post").order_by("id")
    return "posts_received", [
        {
            "post": d.post.title,
            "text": d.post.text,
            "state": SendState(d.state).name.lower(),
            "queued_at": d.queued_at.isoformat(),
            "sent_at": d.sent_at.isoformat() if d.sent_at else None,
            "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None,
            "read_at": d.read_at.isoformat() if d.read_at else None,
        }
        for d in rows
    ]


def export_reactions(subscriber: Subscriber, **_: Any) -> tuple[str, list[dict[str, Any]]]:
    """Every reaction kept: the current emoji per post, or null where it was taken back (the
    row stays, so that a late webhook cannot bring the old emoji back)."""
    rows = PostReaction.objects.filter(subscriber=subscriber).order_by("reacted_at", "id")
    return "post_reactions", [
        {"post": title, "emoji": emoji or None, "reacted_at": reacted_at.isoformat()}
        for title, emoji, reacted_at in rows.values_list("post__title", "emoji", "reacted_at")
    ]
