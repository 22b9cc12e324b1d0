"""Replies are written to the outbox with the event that caused them and sent after commit."""

from __future__ import annotations

from django.db import transaction

from stadtbote.channels.types import OutboundMessage
from stadtbote.dialogue.models import Reply
from stadtbote.subscribers.models import Subscriber


def queue_reply(
    subscriber: Subscriber, message: OutboundMessage, *, in_reply_to: str = ""
) -> Reply:
    reply = Reply.objects.create(
        subscriber=subscriber, in_reply_to=in_reply_to, content=message.to_json()
    )
    from stadtbote.dialogue.tasks import send_replies

    transaction.on_commit(send_replies)
    return reply
