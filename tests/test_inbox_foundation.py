"""What citizens write lands in their conversation; staff answers go out in the window or wait
behind the "answer waiting" template; concerns get reference numbers and a history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from stadtbote.broadcasts.models import Template
from stadtbote.channels.types import Button, OutboundMessage, TemplateUse
from stadtbote.dialogue import tasks
from stadtbote.dialogue.models import Reply
from stadtbote.inbox import actions, chat_templates, replying, signals
from stadtbote.inbox.models import TEXT_MAX, Category, Concern, ConcernEvent, Message, Status
from stadtbote.lib.problems import Problem
from stadtbote.subscribers import actions as subscribers
from tests.helpers import (
    ALICE,
    BOB,
    active_subscriber,
    button_reply,
    compact,
    envelope,
    post_webhook,
    text_message,
    wamid,
)

pytestmark = pytest.mark.django_db


def receive(client, payload) -> None:
    assert post_webhook(client, compact(payload)).status_code == 200
    tasks.apply_inbound_once()


def inbound(sender: str, kind: str, body: dict) -> dict:
    return envelope(
        {
            "contacts": [{"profile": {"name": "Test"}, "wa_id": sender}],
            "messages": [
                {
                    "from": sender,
                    "id": wamid(),
                    "timestamp": str(int(timezone.now().timestamp())),
                    "type": kind,
                    kind: body,
                }
            ],
        }
    )


def approve(name: str) -> None:
    body, buttons = chat_templates.TEMPLATES[name]
    Template.objects.create(
        name=name, language="de", body=body, buttons=buttons, status=Template.Status.APPROVED
    )


def test_every_kind_of_message_lands_in_the_citizens_conversation(client):
    active_subscriber()
    receive(client, text_message(ALICE, "Die Laterne ist kaputt"))
    receive(
        client, inbound(ALICE, "location", {"latitude": 49.0, "longitude": 8.4, "name": "Hier"})
    )
    receive(
        client, inbound(ALICE, "image", {"id": "m1", "mime_type": "image/jpeg", "caption": "So"})
    )
    receive(client, inbound(ALICE, "audio", {"id": "m2", "mime_type": "audio/ogg", "voice": True}))
    receive(
        client,
        inbound(
            ALICE, "document", {"id": "m3", "mime_type": "application/pdf", "filename": "a.pdf"}
        ),
    )
    rows = list(Message.objects.values_list("kind", "text", "latitude", "media_id", "media_state"))
    assert rows == [
        ("text", "Die Laterne ist kaputt", None, "", ""),
        ("location", "Hier", 49.0, "", ""),
        ("image", "So", None, "m1", "pending"),
        ("audio", "", None, "m2", "pending"),
        ("document", "", None, "m3", "pending"),
    ]
    conversation = subscribers.find(ALICE).conversation
    assert conversation.status == Status.NEW
    assert conversation.awaiting_since is not None
    assert {m.conversation_id for m in Message.objects.all()} == {conversation.pk}


def test_only_the_first_unanswered_message_is_acknowledged(client):
    active_subscriber()
    for text in ("Guten Tag, eine Frage", "noch etwas", "und noch etwas"):
        receive(client, text_message(ALICE, text))
    assert Reply.objects.count() == 1
    assert Message.objects.filter(direction="in").count() == 3


def test_a_repeated_webhook_is_stored_once(client):
    active_subscriber()
    payload = text_message(ALICE, "Einmal, bitte")
    receive(client, payload)
    receive(client, payload)
    assert Message.objects.count() == 1


def test_an_oversized_text_is_kept_up_to_whatsapps_limit(client):
    active_subscriber()
    receive(client, text_message(ALICE, "x" * (TEXT_MAX + 5000)))
    assert len(Message.objects.get().text) == TEXT_MAX


def test_a_new_message_reopens_a_resolved_conversation(client):
    active_subscriber()
    receive(client, text_message(ALICE, "Frage"))
    conversation = subscribers.find(ALICE).conversation
    conversation.status, conversation.resolved_at = Status.RESOLVED, timezone.now()
    conversation.awaiting_since = None
    conversation.save()
    receive(client, text_message(ALICE, "Noch eine Frage"))
    conversation.refresh_from_db()
    assert (conversation.status, conversation.resolved_at) == (Status.NEW, None)
    assert conversation.awaiting_since is not None


def test_an_answer_inside_the_window_goes_out_as_written(django_user_model):
    agent = django_user_model.objects.create(username="gerd")
    conversation = actions.conversation_of(active_subscriber())
    message = replying.reply(conversation, "  Wir kümmern uns.  ", by=agent)
    assert (message.held, message.reply.content["text"]) == (False, "Wir kümmern uns.")
    conversation.refresh_from_db()
    assert conversation.status == Status.IN_PROGRESS
    assert conversation.first_answer_at is not None and conversation.awaiting_since is None


def test_an_answer_outside_the_window_waits_behind_the_template_once(django_user_model, client):
    approve(chat_templates.REPLY_WAITING)
    agent = django_user_model.objects.create(username="gerd")
    conversation = actions.conversation_of(active_subscriber(wrote_just_now=False))
    first = replying.reply(conversation, "Erste Antwort", by=agent)
    replying.reply(conversation, "Zweite Antwort", by=agent)
    sent = list(Reply.objects.order_by("id"))
    assert len(sent) == 1
    assert sent[0].content["template"]["name"] == chat_templates.REPLY_WAITING
    assert sent[0].content["template"]["quick_replies"] == [chat_templates.SHOW_HELD]
    assert first.held and first.reply is None

    receive(client, button_reply(ALICE, chat_templates.SHOW_HELD))
    texts = [r.content["text"] for r in Reply.objects.order_by("id")][1:]
    assert texts == ["Erste Antwort", "Zweite Antwort"]
    assert not Message.objects.filter(held=True).exists()


def test_a_stranger_tapping_show_answer_gets_the_answers_and_nothing_else(
    django_user_model, client
):
    approve(chat_templates.REPLY_WAITING)
    receive(client, text_message(BOB, "Ich bin nicht angemeldet"))
    bob = subscribers.find(BOB)
    bob.last_inbound_at = timezone.now() - timedelta(days=2)
    bob.save()
    agent = django_user_model.objects.create(username="gerd")
    replying.reply(bob.conversation, "Antwort", by=agent)
    before = Reply.objects.count()
    receive(client, button_reply(BOB, chat_templates.SHOW_HELD))
    assert [r.content["text"] for r in Reply.objects.order_by("id")][before:] == ["Antwort"]


def test_no_answer_outside_the_window_without_the_template(django_user_model):
    agent = django_user_model.objects.create(username="gerd")
    conversation = actions.conversation_of(active_subscriber(wrote_just_now=False))
    with pytest.raises(Problem, match="template"):
        replying.reply(conversation, "Antwort", by=agent)
    assert not Message.objects.exists() and not Reply.objects.exists()


def test_an_empty_answer_is_refused(django_user_model):
    agent = django_user_model.objects.create(username="gerd")
    conversation = actions.conversation_of(active_subscriber())
    with pytest.raises(Problem):
        replying.reply(conversation, " \n ", by=agent)


def test_a_template_survives_the_outbox():
    message = OutboundMessage(
        text="Neues", template=TemplateUse("stadt_meldung", "de", ("M-1", "erledigt"), ("x",))
    )
    assert OutboundMessage.from_json(message.to_json()) == message
    plain = OutboundMessage(text="Hallo", buttons=(Button("a", "A"),))
    assert OutboundMessage.from_json(plain.to_json()) == plain


def test_a_concern_gets_a_reference_number_and_a_history(django_user_model):
    category = Category.objects.get(service_code="beleuchtung")
    seen = []

    def note(sender, **kw):
        seen.append((kw["status"], kw["changed"]))

    signals.concern_status_changed.connect(note, dispatch_uid="test-seen")
    try:
        concern = actions.create_concern(category=category, description="Laterne aus")
        assert concern.reference == f"M-{concern.created_at:%Y}-{concern.pk:05d}"
        assert concern.department == category.department
        agent = django_user_model.objects.create(username="gerd")
        assert actions.set_concern_status(concern, Status.IN_PROGRESS, by=agent)
        assert not actions.set_concern_status(concern, Status.IN_PROGRESS, by=agent)
        assert actions.set_concern_status(concern, Status.RESOLVED, by=agent, note="Repariert")
        concern.refresh_from_db()
        assert concern.resolved_at is not None and concern.status_note == "Repariert"
        assert actions.set_concern_status(concern, Status.IN_PROGRESS, by=agent)
        concern.refresh_from_db()
        assert concern.resolved_at is None
    finally:
        signals.concern_status_changed.disconnect(dispatch_uid="test-seen")
    assert seen == [(Status.IN_PROGRESS, True), (Status.RESOLVED, True), (Status.IN_PROGRESS, True)]
    assert list(ConcernEvent.objects.values_list("status", flat=True)) == [
        "new",
        "in_progress",
        "resolved",
        "in_progress",
    ]
    assert Concern.objects.get().first_answer_at is not None
