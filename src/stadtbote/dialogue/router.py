"""Turns a citizen's inbound event into an action and an answer."""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction

from stadtbote.broadcasts import actions as broadcasts
from stadtbote.channels.types import (
    Choice,
    CitizenMessage,
    InboundEvent,
    InboundText,
    OutboundMessage,
)
from stadtbote.dialogue import outbox, texts
from stadtbote.dialogue.commands import Command, parse
from stadtbote.dialogue.models import ReceivedMessage
from stadtbote.subscribers import actions as subscribers
from stadtbote.subscribers.models import Subscriber

log = logging.getLogger(__name__)
Status = Subscriber.Status


def handle(event: InboundEvent) -> None:
    if not isinstance(event, CitizenMessage):
        # Reactions, number changes and marketing preferences get their own handling
        # (reactions counting, subscriber signals); nothing to answer here.
        return
    subscriber = subscribers.find_or_create(event.sender)
    if not _first_time(event, subscriber):
        log.info("message for subscriber %s already handled", subscriber.pk)
        return
    subscribers.note_inbound(subscriber, event.timestamp)
    answer: OutboundMessage | None
    if isinstance(event, InboundText):
        answer = _on_text(subscriber, event)
    elif isinstance(event, Choice):
        answer = _on_choice(subscriber, event)
    else:
        answer = _on_other(subscriber)
    if answer is not None:
        outbox.queue_reply(subscriber, answer, in_reply_to=event.message_id)


def _first_time(event: CitizenMessage, subscriber: Subscriber) -> bool:
    try:
        with transaction.atomic():
            ReceivedMessage.objects.create(
                message_id=event.message_id, subscriber=subscriber, received_at=event.timestamp
            )
    except IntegrityError:
        return False
    return True


def _on_text(subscriber: Subscriber, event: InboundText) -> OutboundMessage:
    match parse(event.text):
        case Command.START:
            if subscriber.status == Status.ACTIVE:
                return texts.already_subscribed()
            question = texts.confirmation_question()
            subscribers.request_subscription(
                subscriber, wording=question.text, source=event.message_id
            )
            return question
        case Command.STOP:
            _stop(subscriber, event.message_id)
            return texts.unsubscribed()
        case Command.HELP:
            return texts.help_text()
        case None:
            return _on_other(subscriber)


def _on_other(subscriber: Subscriber) -> OutboundMessage:
    # The inbox (citizen concerns) takes these; until then, an honest answer.
    if subscriber.status == Status.ACTIVE:
        return texts.received()
    return texts.not_subscribed()


def _on_choice(subscriber: Subscriber, event: Choice) -> OutboundMessage | None:
    if event.choice_id == texts.CONFIRM_BUTTON:
        welcome = texts.welcome()
        if subscribers.confirm_subscription(
            subscriber, wording=welcome.text, source=event.message_id
        ):
            return welcome
        if subscriber.status == Status.ACTIVE:
            return texts.already_subscribed()
        return texts.not_subscribed()
    if event.choice_id == texts.DECLINE_BUTTON:
        subscribers.decline_subscription(subscriber)
        return texts.declined()
    log.info("unknown choice from subscriber %s ignored", subscriber.pk)
    return None


def _stop(subscriber: Subscriber, source: str) -> None:
    subscribers.unsubscribe(subscriber, wording=texts.unsubscribed().text, source=source)
    broadcasts.withdraw_queued(subscriber)
