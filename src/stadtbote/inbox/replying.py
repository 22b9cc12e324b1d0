"""Staff answer a citizen in the chat.

Inside WhatsApp's 24-hour window the answer goes out as written. Outside it only an approved
template may be sent, so the answer is held and the "an answer is waiting" template asks the
citizen to open the chat; whatever they send next (the template's button, or anything else)
opens the window, and every held answer goes out then, in order.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from stadtbote.channels.types import OutboundMessage
from stadtbote.dialogue import outbox
from stadtbote.inbox import chat_templates
from stadtbote.inbox.actions import clip
from stadtbote.inbox.models import Concern, Conversation, Message, Status
from stadtbote.lib.problems import Problem
from stadtbote.subscribers.models import Subscriber


def reply(
    conversation: Conversation, text: str, *, by: User, concern: Concern | None = None
) -> Message:
    """Sends (or holds) `text` to the conversation's citizen; refuses an empty answer, one to
    a citizen whose data is being erased, and one outside the window without the template."""
    text = text.strip()
    if not text:
        raise Problem(gettext_noop("An answer needs a text."))
    subscriber = conversation.subscriber
    now = timezone.now()
    with transaction.atomic():
        message = Message(
            conversation=conversation,
            concern=concern,
            direction=Message.Direction.OUT,
            text=clip(text),
            author=by,
            created_at=now,
        )
        if subscriber.window_open(now):
            message.reply = outbox.queue_reply(subscriber, OutboundMessage(text=message.text))
        else:
            invitation = chat_templates.reply_waiting(subscriber.language)
            if invitation is None:
                raise Problem(
                    gettext_noop(
                        "The citizen last wrote more than 24 hours ago, and the template that "
                        "tells them an answer is waiting is not approved."
                    )
                )
            if not conversation.messages.filter(held=True).exists():
                outbox.queue_reply(subscriber, invitation)  # once, however many are held
            message.held = True
        message.save()
        note_answer(conversation, now)
    return message


def note_answer(conversation: Conversation, now: datetime) -> None:
    """The citizen got an answer from the city (from staff, or news of their concern): the
    conversation no longer waits, and is no longer overdue."""
    conversation.awaiting_since = None
    conversation.first_answer_at = conversation.first_answer_at or now
    conversation.last_answer_at = now
    if conversation.status == Status.NEW:
        conversation.status = Status.IN_PROGRESS
    conversation.save(
        update_fields=["awaiting_since", "first_answer_at", "last_answer_at", "status"]
    )


def send_automatic(
    subscriber: Subscriber,
    conversation: Conversation,
    message: OutboundMessage,
    *,
    concern: Concern | None = None,
    in_reply_to: str = "",
) -> Message:
    """Queues what Stadtbote itself tells the citizen (an automatic answer, a report's
    confirmation, news of a concern) and keeps it in the conversation with its send record,
    so staff see what the citizen was told and whether it arrived."""
    return Message.objects.create(
        conversation=conversation,
        concern=concern,
        direction=Message.Direction.AUTO,
        text=clip(message.text),
        reply=outbox.queue_reply(subscriber, message, in_reply_to=in_reply_to),
        created_at=timezone.now(),
    )


def release_held(subscriber: Subscriber) -> int:
    """Sends the answers held for this citizen, now that their window is open again; called
    by the chat router for every message they send. Returns how many went out."""
    held = list(
        Message.objects.filter(conversation__subscriber=subscriber, held=True).order_by(
            "created_at", "id"
        )
    )
    for message in held:
        message.reply = outbox.queue_reply(subscriber, OutboundMessage(text=message.text))
        message.held = False
        message.save(update_fields=["reply", "held"])
    return len(held)
