"""Turns a citizen's inbound event into an action and an answer.

Every answer is one message, in the subscriber's language, with buttons or a list wherever a
choice is asked for. Choices carry ids ("topic:3", "pause:14"), so no dialogue state is kept
between messages: a tap on an old list still does what it says.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction

from stadtbote.broadcasts import actions as broadcasts
from stadtbote.broadcasts import reactions, sharing, templates
from stadtbote.broadcasts.models import Delivery
from stadtbote.channels.types import (
    Choice,
    CitizenMessage,
    DeliveryStatus,
    InboundEvent,
    InboundText,
    MarketingPreference,
    NumberChanged,
    OutboundMessage,
    Reaction,
    StatusUpdate,
    TemplateStatusChanged,
)
from stadtbote.dialogue import outbox, summary, texts
from stadtbote.dialogue.commands import Command, understand
from stadtbote.dialogue.models import ReceivedMessage, Reply
from stadtbote.inbox import chat_templates, intake, replying, reporting
from stadtbote.lib.ids import parse_id
from stadtbote.polls import messages as polls
from stadtbote.polls import voting
from stadtbote.subscribers import actions as subscribers
from stadtbote.subscribers.models import District, Subscriber, Topic

log = logging.getLogger(__name__)
Status = Subscriber.Status
MENU_COMMANDS = {c.value: c for c in Command}


def handle(event: InboundEvent) -> None:
    if isinstance(event, StatusUpdate):
        if event.status is DeliveryStatus.FAILED and event.error_code is not None:
            _note_failure(event.message_id, event.error_code)
        return
    if isinstance(event, MarketingPreference):
        found = subscribers.find(event.sender)
        if found is not None:
            subscribers.note_marketing_preference(found, stopped=event.stopped)
        return
    if isinstance(event, TemplateStatusChanged):
        templates.apply_status(event.name, event.language, event.status, event.reason or "")
        return
    if isinstance(event, NumberChanged):
        subscribers.change_number(event.sender, event.new_number)
        return
    if isinstance(event, Reaction):
        _on_reaction(event)
        return
    if not isinstance(event, CitizenMessage):
        return
    subscriber = subscribers.find_or_create(event.sender, bsuid=event.user_id)
    if not _first_time(event, subscriber):
        log.info("message for subscriber %s already handled", subscriber.pk)
        return
    subscribers.note_inbound(subscriber, event.timestamp)
    replying.release_held(subscriber)  # their window is open again
    if isinstance(event, InboundText):
        answer = _on_text(subscriber, event)
    elif isinstance(event, Choice):
        answer = _on_choice(subscriber, event)
    else:
        answer = _not_a_command(subscriber, event)
    if answer is not None:
        outbox.queue_reply(subscriber, answer, in_reply_to=event.message_id)


def _note_failure(message_id: str, code: int) -> None:
    for model in (Delivery, Reply):
        row = model.objects.filter(message_id=message_id).select_related("subscriber").first()
        if row is not None and row.subscriber is not None:
            subscribers.note_delivery_failure(row.subscriber, code)
            return


def _on_reaction(event: Reaction) -> None:
    """Counted on the post; nothing to answer. Applied once per message id: two reactions
    within one second carry the same time, so a repeated webhook of the first would
    otherwise replace the second again."""
    sender = subscribers.find(event.sender)
    if sender is not None and _first_time(event, sender):
        reactions.record(event, sender)


def _first_time(event: CitizenMessage | Reaction, subscriber: Subscriber) -> bool:
    try:
        with transaction.atomic():
            ReceivedMessage.objects.create(
                message_id=event.message_id,
                subscriber=subscriber,
                received_at=event.timestamp,
                forwarded=getattr(event, "forwarded", False),  # a Choice cannot be forwarded
            )
    except IntegrityError:
        return False
    return True


def _on_text(subscriber: Subscriber, event: InboundText) -> OutboundMessage | None:
    match = understand(event.text)
    if match is None or (
        match.command is Command.STOP and reporting.cancels_report(subscriber, event)
    ):
        return _not_a_command(subscriber, event)
    if match.language and match.command is Command.START and subscriber.status != Status.ACTIVE:
        subscribers.set_language(subscriber, match.language)
    return _command(subscriber, match.command, event)


def _not_a_command(subscriber: Subscriber, event: CitizenMessage) -> OutboundMessage | None:
    """A step of a report under way or an addition to one; else a message for the inbox."""
    taken = reporting.on_message(subscriber, event)
    return taken.answer if taken is not None else intake.on_message(subscriber, event)


def _command(
    subscriber: Subscriber, command: Command, event: CitizenMessage
) -> OutboundMessage | None:
    lang = subscriber.language
    match command:
        case Command.START:
            return _start(subscriber, event)
        case Command.STOP:
            _stop(subscriber, event)
            return texts.unsubscribed(lang)
        case Command.HELP:
            return texts.help_text(lang)
        case Command.DATA:
            return summary.for_chat(subscriber)
        case Command.ERASE:
            return texts.erase_question(lang)
        case Command.LANGUAGE:
            return texts.language_question(lang)
        case Command.REPORT:  # concerns are not tied to a subscription
            return reporting.start(subscriber, event)
    # Choosing what to receive needs a subscription first.
    if subscriber.status not in (Status.ACTIVE, Status.PENDING):
        return texts.not_subscribed(lang)
    match command:
        case Command.TOPICS:
            return _topics_menu(subscriber)
        case Command.DISTRICTS:
            return _districts_menu(subscriber)
        case Command.PAUSE:
            return texts.pause_question(lang)
    return None


def _start(subscriber: Subscriber, event: CitizenMessage) -> OutboundMessage | None:
    lang = subscriber.language
    if subscriber.status == Status.ACTIVE:
        return texts.already_subscribed(lang)
    question = texts.confirmation_question(lang)
    referral = sharing.referral_in(event.text) if isinstance(event, InboundText) else ""
    if not subscribers.request_subscription(
        subscriber,
        wording=question.text,
        source=event.message_id,
        at=event.timestamp,
        referred_by_post=int(referral.removeprefix("post:")) if referral else None,
    ):
        return None  # an older "Start" that arrived after a newer decision
    return question


def _stop(subscriber: Subscriber, event: CitizenMessage) -> None:
    subscribers.unsubscribe(
        subscriber,
        wording=texts.unsubscribed(subscriber.language).text,
        source=event.message_id,
        at=event.timestamp,
    )
    broadcasts.withdraw_queued(subscriber)


def _on_choice(subscriber: Subscriber, event: Choice) -> OutboundMessage | None:
    kind, _, value = event.choice_id.partition(":")
    lang = subscriber.language
    if event.choice_id == chat_templates.SHOW_HELD:
        return None  # the held answers went out in handle(); anyone may have some
    if kind == "report":
        return reporting.on_choice(subscriber, event)
    if kind == "subscription":
        return _on_confirmation(subscriber, event, confirmed=value == "confirm")
    if kind == "menu" and value in MENU_COMMANDS:
        return _command(subscriber, MENU_COMMANDS[value], event)
    if kind == "erase":
        if value != "confirm":
            return texts.erase_cancelled(lang)
        number = subscriber.phone
        subscribers.erase(subscriber, wording=texts.erased(lang).text)
        outbox.queue_goodbye(number, texts.erased(lang), in_reply_to=event.message_id)
        return None
    if kind == "lang" and value in Subscriber.Language.values:
        subscribers.set_language(subscriber, value)
        return texts.language_set(value)
    if subscriber.status not in (Status.ACTIVE, Status.PENDING):
        return texts.not_subscribed(lang)
    if kind == "topic":
        return _on_topic(subscriber, value)
    if kind == "district":
        return _on_district(subscriber, value)
    if kind == "pause":
        return _on_pause(subscriber, value)
    if kind == polls.PREFIX:
        return voting.on_tap(subscriber, event.choice_id, event.timestamp)
    log.info("unknown choice from subscriber %s ignored", subscriber.pk)
    return None


def _on_confirmation(subscriber: Subscriber, event: Choice, *, confirmed: bool) -> OutboundMessage:
    lang = subscriber.language
    if not confirmed:
        subscribers.decline_subscription(subscriber)
        return texts.declined(lang)
    welcome = texts.welcome(lang)
    if subscribers.confirm_subscription(
        subscriber, wording=welcome.text, source=event.message_id, at=event.timestamp
    ):
        return welcome
    if subscriber.status == Status.ACTIVE:
        return texts.already_subscribed(lang)
    return texts.not_subscribed(lang)


def _topics_menu(subscriber: Subscriber) -> OutboundMessage:
    return texts.choice_menu(
        subscriber.language,
        prefix="topic",
        intro_key="topics_intro",
        all_key="all_topics",
        options=list(Topic.objects.values_list("pk", "name")),
        chosen=set(subscriber.topics.values_list("pk", flat=True)),
    )


def _districts_menu(subscriber: Subscriber) -> OutboundMessage:
    options = list(District.objects.values_list("pk", "name"))
    if not options:
        return texts.no_districts(subscriber.language)
    return texts.choice_menu(
        subscriber.language,
        prefix="district",
        intro_key="districts_intro",
        all_key="all_districts",
        options=options,
        chosen=set(subscriber.districts.values_list("pk", flat=True)),
    )


def _on_topic(subscriber: Subscriber, value: str) -> OutboundMessage | None:
    if value == texts.DONE:
        return texts.saved(subscriber.language)
    if value == texts.ALL:
        subscribers.clear_topics(subscriber)
        return _topics_menu(subscriber)
    topic_id = parse_id(value)
    topic = Topic.objects.filter(pk=topic_id).first() if topic_id is not None else None
    if topic is None:
        return _topics_menu(subscriber)  # a topic staff removed meanwhile
    subscribers.toggle_topic(subscriber, topic)
    return _topics_menu(subscriber)


def _on_district(subscriber: Subscriber, value: str) -> OutboundMessage | None:
    if value == texts.DONE:
        return texts.saved(subscriber.language)
    if value == texts.ALL:
        subscribers.clear_districts(subscriber)
        return _districts_menu(subscriber)
    district_id = parse_id(value)
    district = District.objects.filter(pk=district_id).first() if district_id is not None else None
    if district is not None:
        subscribers.toggle_district(subscriber, district)
    return _districts_menu(subscriber)


def _on_pause(subscriber: Subscriber, value: str) -> OutboundMessage:
    lang = subscriber.language
    days = parse_id(value)
    if days is not None and days in texts.PAUSE_DAYS:
        return texts.paused(lang, subscribers.pause(subscriber, days))
    subscribers.resume(subscriber)
    return texts.resumed(lang)
