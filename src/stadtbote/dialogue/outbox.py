"""Replies are written to the outbox with the event that caused them and sent after commit."""

from __future__ import annotations

from django.db import transaction

from stadtbote.channels.types import OutboundMessage
from stadtbote.dialogue.models import Reply
from stadtbote.lib import crypto
from stadtbote.subscribers.models import Subscriber


def _send_after_commit() -> None:
    from stadtbote.dialogue.tasks import schedule_replies

    transaction.on_commit(schedule_replies)


def queue_reply(
    subscriber: Subscriber, message: OutboundMessage, *, in_reply_to: str = ""
) -> Reply:
    reply = Reply.objects.create(
        subscriber=subscriber, in_reply_to=in_reply_to, content=message.to_json()
    )
    _send_after_commit()
    return reply


def queue_goodbye(number: str, message: OutboundMessage, *, in_reply_to: str = "") -> Reply:
    """A last answer to someone whose data was just erased."""
    reply = Reply.objects.create(
        subscriber=None,
        recipient_encrypted=crypto.encrypt(number),
        in_reply_to=in_reply_to,
        content=message.to_json(),
    )
    _send_after_commit()
    return reply
