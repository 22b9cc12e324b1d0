"""What a citizen is told automatically when they write to the city, in one message.

In this order, joined into one text:

1. An emergency hint (call 112/110) when the message looks like one (emergency.py), even
   inside office hours; once per INBOX_AUTO_ANSWER_HOURS, so a new emergency after that period
   gets it again.
2. When the citizen writes a lot (more than INBOX_FLOOD_MESSAGES messages within FLOOD_WINDOW),
   nothing else but one calm "we read everything, please be patient" per period: the messages
   are all stored, but a flood never gets a flood of answers back.
3. Otherwise the acknowledgement of the first message awaiting an answer, and outside office
   hours the notice saying when someone replies (once per period).

Rates are measured on the citizen's own timestamps (how fast they wrote); the periods between
two automatic answers on the worker's clock (timezone.now()), as is the office-hours question:
a message read from a backlog is answered with what is true when the answer goes out.

Each answer is also kept in the conversation as a message of direction AUTO, with its send
record, so staff see what the citizen was told.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from stadtbote.channels.types import OutboundMessage
from stadtbote.dialogue import texts
from stadtbote.inbox import emergency, expect_texts, office_hours, replying
from stadtbote.inbox.models import Conversation, Message
from stadtbote.subscribers.models import Subscriber

FLOOD_WINDOW = timedelta(minutes=10)


def _period() -> timedelta:
    return timedelta(hours=settings.INBOX_AUTO_ANSWER_HOURS)


def _due(last: datetime | None, now: datetime) -> bool:
    return last is None or now - last >= _period()


def flooded(message: Message) -> bool:
    """More than INBOX_FLOOD_MESSAGES messages from this citizen within FLOOD_WINDOW up to
    this one (0 switches the check off)."""
    limit = settings.INBOX_FLOOD_MESSAGES
    if limit <= 0:
        return False
    recent = Message.objects.filter(
        conversation_id=message.conversation_id,
        direction=Message.Direction.IN,
        created_at__gt=message.created_at - FLOOD_WINDOW,
        created_at__lte=message.created_at,
    )
    # Only whether the limit is passed matters; the slice keeps a flood's count cheap.
    return len(recent.values_list("pk", flat=True)[: limit + 1]) > limit


def _acknowledgement(subscriber: Subscriber) -> str:
    if subscriber.status == Subscriber.Status.ACTIVE:
        return texts.received(subscriber.language).text
    return texts.received_from_stranger(subscriber.language).text


def _away(language: str, now: datetime, *, thank: bool) -> str:
    opening = office_hours.next_opening(now)
    when = office_hours.when_we_reply(opening, now, language) if opening else None
    notice = expect_texts.away(language, when)
    return f"{expect_texts.thanks(language)} {notice}" if thank else notice


def compose(
    subscriber: Subscriber, conversation: Conversation, message: Message, *, first: bool
) -> tuple[str, dict[str, datetime]]:
    """The text to send ("" for none) and which of the conversation's automatic-answer times
    to set. `conversation` must be locked and read before `message` was recorded."""
    now = timezone.now()
    language = subscriber.language
    parts: list[str] = []
    marks: dict[str, datetime] = {}
    if emergency.looks_like_emergency(message.text) and _due(conversation.emergency_hint_at, now):
        parts.append(expect_texts.emergency(language))
        marks["emergency_hint_at"] = now
    if flooded(message):
        if _due(conversation.flood_notice_at, now):
            parts.append(expect_texts.flood(language))
            marks["flood_notice_at"] = now
        return "\n\n".join(parts), marks
    if first:
        parts.append(_acknowledgement(subscriber))
    if _due(conversation.away_notice_at, now) and not office_hours.is_open(now):
        parts.append(_away(language, now, thank=not first))
        marks["away_notice_at"] = now
    return "\n\n".join(parts), marks


def answer(
    subscriber: Subscriber,
    conversation: Conversation,
    message: Message,
    *,
    first: bool,
    in_reply_to: str = "",
) -> Message | None:
    """Queues the automatic answer to `message`, if any, and keeps it in the conversation."""
    text, marks = compose(subscriber, conversation, message, first=first)
    if not text:
        return None
    if marks:
        Conversation.objects.filter(pk=conversation.pk).update(**marks)
        for name, value in marks.items():
            setattr(conversation, name, value)
    return replying.send_automatic(
        subscriber, conversation, OutboundMessage(text=text), in_reply_to=in_reply_to
    )
