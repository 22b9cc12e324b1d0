"""The citizen is told when their concern's status changes (or staff add a note for them).

Receiver of `signals.concern_status_changed`, connected in InboxConfig.ready(); it runs in
the transaction of the change, so a rolled-back change tells nobody.

- Only concerns reported in the chat have someone to tell: one from Open311 has no
  conversation, and neither has one whose citizen was erased (the conversation went with
  them).
- Inside WhatsApp's 24-hour window the news goes out as a free text; outside it as the utility
  template "stadt_meldung" (reference, short news), which Meta allows at any time.
- Every notification is stored in the conversation as an automatic message with its send
  record, so staff see what the citizen was told and whether it arrived; the conversation
  counts as answered (no longer waiting, not overdue).
- Without the approved template nothing can be sent outside the window: an internal note in
  the conversation says so (staff can answer once the citizen writes again), and the log
  names the concern by id.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext

from stadtbote.channels.types import OutboundMessage
from stadtbote.inbox import chat_templates, replying
from stadtbote.inbox import report_texts as say
from stadtbote.inbox.actions import clip
from stadtbote.inbox.models import Concern, Conversation, Message, Status

log = logging.getLogger(__name__)
# A template parameter: one line, and well within Meta's 1,024 characters of the whole body.
SHORT_NEWS_MAX = 600


def on_status_changed(
    sender: Any, *, concern: Concern, status: str, note: str, changed: bool, **kwargs: Any
) -> None:
    if not changed and not note:
        return
    tell(concern, status if changed else None, note)


def tell(concern: Concern, status: str | None, note: str = "") -> Message | None:
    """Tells the concern's citizen what changed (`status` None: only a note); returns the
    message stored in the conversation, or None if there was nobody to tell."""
    conversation = (
        Conversation.objects.select_related("subscriber").filter(pk=concern.conversation_id).first()
        if concern.conversation_id is not None
        else None
    )
    if conversation is None:
        return None
    subscriber = conversation.subscriber
    now = timezone.now()
    status = Status(status).value if status else None
    note = note.strip()
    if subscriber.window_open(now):
        text = say.news(subscriber.language, status, concern.reference, note)
        buttons = (say.add_button(subscriber.language, concern.pk),) if status == "waiting" else ()
        message = OutboundMessage(text=text, buttons=buttons)
    else:
        found = chat_templates.approved(chat_templates.CONCERN_NEWS, subscriber.language)
        language = found.language if found is not None else subscriber.language
        short = _one_line(say.short_news(language, status, note))
        news = chat_templates.concern_news(language, concern.reference, short)
        if news is None:
            return _not_told(conversation, concern, short)
        message = news
    told = replying.send_automatic(subscriber, conversation, message, concern=concern)
    replying.note_answer(conversation, now)  # news of their concern answers the citizen
    return told


def _not_told(conversation: Conversation, concern: Concern, news: str) -> Message:
    log.warning(
        "concern %s: status news not sent, outside the window and template %s not approved",
        concern.pk,
        chat_templates.CONCERN_NEWS,
    )
    # Stored in the installation's language: the note is read by staff, not the citizen.
    with translation.override(settings.LANGUAGE_CODE):
        text = gettext(
            "Not told: the citizen last wrote more than 24 hours ago, and the template "
            "“%(template)s” is not approved. The news was: %(news)s"
        ) % {"template": chat_templates.CONCERN_NEWS, "news": news}
    return Message.objects.create(
        conversation=conversation,
        concern=concern,
        direction=Message.Direction.NOTE,
        text=clip(text),
        created_at=timezone.now(),
    )


def _one_line(text: str) -> str:
    """Meta refuses a template parameter with line breaks, tabs or runs of spaces."""
    flat = " ".join(text.split())
    return flat if len(flat) <= SHORT_NEWS_MAX else flat[: SHORT_NEWS_MAX - 1] + "…"
