"""A subscriber's chat in erasure and export, and raw webhook bodies that still name them."""

from __future__ import annotations

from typing import Any

from stadtbote.channels import inbound
from stadtbote.channels.models import StatusEvent
from stadtbote.dialogue.models import Reply
from stadtbote.subscribers.models import Subscriber


def erase_chat(subscriber: Subscriber, **_: Any) -> None:
    replies = Reply.objects.filter(subscriber=subscriber)
    StatusEvent.objects.filter(
        message_id__in=replies.exclude(message_id=None).values("message_id")
    ).delete()
    replies.delete()  # ReceivedMessage rows go with the subscriber row (cascade)
    inbound.purge_bodies_mentioning(subscriber.phone)


def export_chat(subscriber: Subscriber, **_: Any) -> tuple[str, list[dict[str, Any]]]:
    return "answers_sent", [
        {"text": r.content.get("text", ""), "created_at": r.created_at.isoformat()}
        for r in Reply.objects.filter(subscriber=subscriber).order_by("id")
    ]
