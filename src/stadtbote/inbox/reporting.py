"""The guided defect report in the chat ("Melden"), and additions to a report made before.

1. "Melden" (or the menu entry) starts a ReportDraft at CATEGORY and answers with the list of
   active categories (`report:cat:<id>`).
2. LOCATION: a WhatsApp location pin inside the city (geo.py), or an address typed as text.
3. PHOTO: a photo (also one sent as a document), or the button "Ohne Foto" (`report:skip`);
   a text here is taken as the description, for those who skip the photo by just writing.
4. DESCRIPTION: a text; then the concern is made, and every message of the report gets it.
"Abbrechen" (`report:cancel`, or the word typed) ends the report at any step.

"Ergänzen" (`report:add:<concern id>`) moves the draft to ADDING: the next message is attached
to that concern. A text that quotes the reference number of one of the citizen's own concerns
is attached too. A resolved concern does not reopen by an addition: the conversation awaits an
answer again (actions.record_inbound), and staff decide.

Every message the citizen sends during a report is stored in their conversation, so staff see
what was said, also what was refused at a step. A draft untouched for DRAFT_HOURS is dropped
and the next message is treated as if there had been none. Times are the messages' own (the
platform's), so a backlog in the worker does not age a draft.

Commands ("Stop", "Hilfe", …) keep working in the middle of a report; the router asks them
first. This module only ever sees what is not a command.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from stadtbote.channels.types import (
    Choice,
    CitizenMessage,
    InboundText,
    Location,
    Media,
    OutboundMessage,
    UnsupportedMessage,
)
from stadtbote.inbox import actions, geo, replying
from stadtbote.inbox import report_texts as say
from stadtbote.inbox.models import Category, Concern, Message, ReportDraft
from stadtbote.lib.ids import parse_id
from stadtbote.subscribers.models import District, Subscriber

log = logging.getLogger(__name__)

DRAFT_HOURS = 2
STALE = timedelta(hours=DRAFT_HOURS)
Step = ReportDraft.Step
Kind = Message.Kind
# "M-2026-00042", also typed as "m 2026 00042" or "M-2026-42".
_REFERENCE = re.compile(r"(?<![\w-])M[\s-]?(\d{4})[\s-](\d{1,12})(?!\w)", re.IGNORECASE)
# "cancel" is also a word for Stop; while a report is under way it cancels the report
# (cancels_report), so nobody unsubscribes by abandoning one.
_CANCEL_WORDS = {"abbrechen", "abbruch", "abbrechenbitte", "cancel"}
# Typed instead of tapping "Ohne Foto" (the text is otherwise taken as the description).
_SKIP = {"ohnefoto", "keinfoto", "keinbild", "ohnebild", "keins", "nein", "nophoto", "skip"}
_WORDS_ONLY = re.compile(r"[^\w]+", re.UNICODE)


# --- entry points, called by the chat router ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Taken:
    """A message the report took, and the answer to it (None: nothing to say)."""

    answer: OutboundMessage | None


def start(subscriber: Subscriber, event: CitizenMessage) -> OutboundMessage:
    """A new report: any draft before is dropped, and the category list is asked."""
    lang = subscriber.language
    first = actions.record_inbound(subscriber, event)
    categories = _categories()
    if not categories:
        ReportDraft.objects.filter(subscriber=subscriber).delete()
        return say.no_categories(lang)
    ReportDraft.objects.update_or_create(
        subscriber=subscriber,
        defaults={
            "step": Step.CATEGORY,
            "category": None,
            "latitude": None,
            "longitude": None,
            "address": "",
            "photo": None,
            "concern": None,
            "first_message": first,
            "updated_at": event.timestamp,
        },
    )
    return say.category_question(lang, categories)


def on_choice(subscriber: Subscriber, event: Choice) -> OutboundMessage:
    """A tap on a button or list row of the report (`report:…`). An id that is unknown,
    forged, someone else's or from a report no longer open changes nothing."""
    lang = subscriber.language
    action, _, value = event.choice_id.removeprefix(f"{say.PREFIX}:").partition(":")
    draft = _current(subscriber, event.timestamp)
    if action == "add":
        return _begin_addition(subscriber, event, draft, value)
    if draft is None:
        return say.nothing_open(lang)
    actions.record_inbound(subscriber, event)
    if action == "cancel":
        draft.delete()
        return say.cancelled(lang)
    if action == "cat" and draft.step != Step.ADDING:
        category = _category(parse_id(value))
        if category is None:
            return _question(draft, hint=say.unknown_category(lang))
        draft.category = category
        if draft.step == Step.CATEGORY:
            draft.step = Step.LOCATION
        _touch(draft, event.timestamp)
        return _question(draft)
    if action == "page" and draft.step == Step.CATEGORY:
        page = parse_id(value)
        if page is not None and page >= 1:
            _touch(draft, event.timestamp)
            return say.category_question(lang, _categories(), min(page, 100))
    if action == "skip" and draft.step == Step.PHOTO:
        draft.step = Step.DESCRIPTION
        _touch(draft, event.timestamp)
        return _question(draft)
    if action not in ("cat", "page", "skip"):
        log.info("unknown report choice from subscriber %s", subscriber.pk)
    # An old button of an earlier step, or one that does not exist: ask what is asked now.
    return _question(draft)


def on_message(subscriber: Subscriber, event: CitizenMessage) -> Taken | None:
    """A message that is not a command: a step of the report under way, an addition, or
    None when it has nothing to do with a report (the inbox's intake takes it then)."""
    draft = _current(subscriber, event.timestamp)
    if draft is None:
        answer = _attach_by_reference(subscriber, event)
        return Taken(answer) if answer is not None else None
    message = actions.record_inbound(subscriber, event)
    if isinstance(event, InboundText) and _is_cancel(event.text):
        draft.delete()
        return Taken(say.cancelled(subscriber.language))
    match draft.step:
        case Step.CATEGORY:
            return Taken(_at_category(draft, event))
        case Step.LOCATION:
            return Taken(_at_location(draft, event, message))
        case Step.PHOTO:
            return Taken(_at_photo(draft, event, message))
        case Step.DESCRIPTION:
            return Taken(_at_description(draft, event, message))
        case Step.ADDING:
            return Taken(_at_adding(draft, event, message))
    raise AssertionError(f"unknown step {draft.step}")


# --- the steps ------------------------------------------------------------------------------


def _at_category(draft: ReportDraft, event: CitizenMessage) -> OutboundMessage:
    """A category typed instead of picked from the list is taken too."""
    lang = draft.subscriber.language
    if isinstance(event, InboundText):
        typed = Category.objects.filter(active=True, name__iexact=event.text.strip()).first()
        if typed is not None:
            draft.category, draft.step = typed, Step.LOCATION
            _touch(draft, event.timestamp)
            return _question(draft)
    return _question(draft, hint=say.category_hint(lang))


def _at_location(draft: ReportDraft, event: CitizenMessage, message: Message) -> OutboundMessage:
    lang = draft.subscriber.language
    if isinstance(event, Location):
        if not geo.is_place(event.latitude, event.longitude):
            return _question(draft, hint=say.not_a_place(lang))
        if not geo.in_city(event.latitude, event.longitude):
            return say.outside(lang)
        draft.latitude, draft.longitude = event.latitude, event.longitude
        draft.address = message.text[:255]  # the chosen place's name and address, if any
    elif isinstance(event, InboundText) and _has_words(event.text):
        draft.address = " ".join(event.text.split())[:255]
    else:
        return _question(draft, hint=say.location_hint(lang))
    draft.step = Step.PHOTO
    _touch(draft, event.timestamp)
    return _question(draft)


def _at_photo(
    draft: ReportDraft, event: CitizenMessage, message: Message
) -> OutboundMessage | None:
    if _is_photo(event):
        draft.photo, draft.step = message, Step.DESCRIPTION
        _touch(draft, event.timestamp)
        return _question(draft)
    if isinstance(event, InboundText) and _WORDS_ONLY.sub("", event.text.casefold()) in _SKIP:
        draft.step = Step.DESCRIPTION
        _touch(draft, event.timestamp)
        return _question(draft)
    if isinstance(event, InboundText) and _has_words(event.text):
        _finish(draft, event.text, message)
        return None
    return _question(draft, hint=say.photo_hint(draft.subscriber.language))


def _at_description(
    draft: ReportDraft, event: CitizenMessage, message: Message
) -> OutboundMessage | None:
    if isinstance(event, InboundText) and _has_words(event.text):
        _finish(draft, event.text, message)
        return None
    if _is_photo(event):
        # Several photos sent at once: the first is the report's photo, the others come
        # along (they are the report's messages) without an answer each.
        if draft.photo_id is not None:
            return None
        draft.photo = message
        _touch(draft, event.timestamp)
        return _question(draft)
    return _question(draft, hint=say.description_hint(draft.subscriber.language))


def _at_adding(draft: ReportDraft, event: CitizenMessage, message: Message) -> OutboundMessage:
    lang = draft.subscriber.language
    concern = draft.concern
    assert concern is not None  # ADDING always has one; a deleted concern takes the draft along
    if isinstance(event, UnsupportedMessage):
        return _question(draft, hint=say.addition_hint(lang))
    _attach(message, concern, event.timestamp)
    draft.delete()
    return say.added(lang, concern.reference)


def _finish(draft: ReportDraft, description: str, last: Message) -> None:
    """Files the concern and sends the reference number; the confirmation is kept in the
    conversation too, so staff see what the citizen was told."""
    subscriber = draft.subscriber
    assert draft.category is not None  # past CATEGORY there always is one
    conversation = actions.conversation_of(subscriber)
    concern = actions.create_concern(
        category=draft.category,
        description=description.strip(),
        latitude=draft.latitude,
        longitude=draft.longitude,
        address=draft.address,
        district=_district(subscriber),
        photo=draft.photo,
        conversation=conversation,
    )
    # The report's messages: from the one that started it on (commands are not stored, so
    # nothing else of the citizen's lies in between).
    mine = Message.objects.filter(
        conversation=conversation, direction=Message.Direction.IN, concern__isnull=True
    )
    if draft.first_message_id is not None:
        mine.filter(pk__gte=draft.first_message_id).update(concern=concern)
    else:  # its first message was deleted meanwhile (retention): at least the last one
        mine.filter(pk=last.pk).update(concern=concern)
    log.info("concern %s reported in the chat by subscriber %s", concern.pk, subscriber.pk)
    draft.delete()
    confirmation = say.done(subscriber.language, concern.reference, concern.pk)
    replying.send_automatic(
        subscriber, conversation, confirmation, concern=concern, in_reply_to=last.platform_id
    )


# --- additions ------------------------------------------------------------------------------


def _begin_addition(
    subscriber: Subscriber, event: Choice, draft: ReportDraft | None, value: str
) -> OutboundMessage:
    """ "Ergänzen": the next message goes to this concern (the citizen's own only). A report
    under way is given up for it: one thing at a time."""
    lang = subscriber.language
    concern = _own_concern(subscriber, parse_id(value))
    if concern is None:
        if draft is not None:
            return _question(draft, hint=say.unknown_concern(lang).text)
        return say.unknown_concern(lang)
    tap = actions.record_inbound(subscriber, event)
    _attach(tap, concern, event.timestamp)
    ReportDraft.objects.update_or_create(
        subscriber=subscriber,
        defaults={
            "step": Step.ADDING,
            "category": None,
            "latitude": None,
            "longitude": None,
            "address": "",
            "photo": None,
            "concern": concern,
            "first_message": tap,
            "updated_at": event.timestamp,
        },
    )
    return say.addition_question(lang, concern.reference)


def _attach_by_reference(subscriber: Subscriber, event: CitizenMessage) -> OutboundMessage | None:
    """A text that names one of the citizen's own concerns by its number is added to it.
    Someone else's number is just text (and says nothing about that concern)."""
    if not isinstance(event, InboundText):
        return None
    concern = _quoted_concern(subscriber, event.text)
    if concern is None:
        return None
    message = actions.record_inbound(subscriber, event)
    _attach(message, concern, event.timestamp)
    return say.added(subscriber.language, concern.reference)


def _attach(message: Message, concern: Concern, at: datetime) -> None:
    message.concern = concern
    message.save(update_fields=["concern"])
    Concern.objects.filter(pk=concern.pk).update(updated_at=max(concern.updated_at, at))


def _quoted_concern(subscriber: Subscriber, text: str) -> Concern | None:
    references = [
        f"M-{year}-{int(number):05d}" for year, number in _REFERENCE.findall(text[:4096])[:5]
    ]
    if not references:
        return None
    return (
        Concern.objects.filter(reference__in=references, conversation__subscriber=subscriber)
        .order_by("-created_at")
        .first()
    )


def _own_concern(subscriber: Subscriber, concern_id: int | None) -> Concern | None:
    if concern_id is None:
        return None
    return Concern.objects.filter(pk=concern_id, conversation__subscriber=subscriber).first()


# --- helpers --------------------------------------------------------------------------------


def cancels_report(subscriber: Subscriber, event: InboundText) -> bool:
    """The text cancels a report under way (asked by the router before it takes a word that
    also means Stop as Stop)."""
    return (
        _is_cancel(event.text)
        and ReportDraft.objects.filter(
            subscriber=subscriber, updated_at__gte=event.timestamp - STALE
        ).exists()
    )


def _current(subscriber: Subscriber, at: datetime) -> ReportDraft | None:
    """The citizen's draft, locked for this message; a stale one is removed."""
    draft = (
        ReportDraft.objects.select_for_update(of=("self",))
        .select_related("category", "concern", "subscriber")
        .filter(subscriber=subscriber)
        .first()
    )
    if draft is not None and at - draft.updated_at > STALE:
        log.info("stale report draft of subscriber %s dropped", subscriber.pk)
        draft.delete()
        return None
    return draft


def _touch(draft: ReportDraft, at: datetime) -> None:
    draft.updated_at = max(draft.updated_at, at)
    draft.save()


def _question(draft: ReportDraft, *, hint: str = "") -> OutboundMessage:
    """What the draft's step asks, with a hint why it is asked again."""
    lang = draft.subscriber.language
    match draft.step:
        case Step.CATEGORY:
            return say.category_question(lang, _categories(), hint=hint)
        case Step.LOCATION:
            assert draft.category is not None
            return say.location_question(lang, draft.category.name, hint=hint)
        case Step.PHOTO:
            return say.photo_question(lang, hint=hint)
        case Step.DESCRIPTION:
            return say.description_question(lang, hint=hint)
        case _:
            assert draft.concern is not None
            return say.addition_question(lang, draft.concern.reference, hint=hint)


def _categories() -> list[tuple[int, str, str]]:
    return list(Category.objects.filter(active=True).values_list("pk", "name", "description"))


def _category(category_id: int | None) -> Category | None:
    if category_id is None:
        return None
    return Category.objects.filter(pk=category_id, active=True).first()


def _district(subscriber: Subscriber) -> District | None:
    """The one district the citizen chose, if exactly one; staff can set it otherwise."""
    chosen = list(subscriber.districts.all()[:2])
    return chosen[0] if len(chosen) == 1 else None


def _is_photo(event: CitizenMessage) -> bool:
    """A photo, or one sent as a file (to keep its full quality)."""
    return isinstance(event, Media) and (
        event.kind == Kind.IMAGE
        or (event.kind == Kind.DOCUMENT and event.mime_type.lower().startswith("image/"))
    )


def _has_words(text: str) -> bool:
    return any(c.isalnum() for c in text)


def _is_cancel(text: str) -> bool:
    return _WORDS_ONLY.sub("", text[:40].casefold()) in _CANCEL_WORDS
