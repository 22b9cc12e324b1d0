"""The citizen is told when their concern's status changes: as free text inside the 24-hour
window, as the "stadt_meldung" template outside it, an internal note when that template is
missing; nobody for a concern from Open311 or of an erased citizen. Every notification is kept
in the conversation."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from stadtbote.broadcasts.models import Template
from stadtbote.dialogue import tasks
from stadtbote.dialogue.models import Reply
from stadtbote.inbox import actions, chat_templates, notify
from stadtbote.inbox.models import Category, Concern, Message, Status
from stadtbote.subscribers import actions as subscribers
from stadtbote.subscribers.models import Subscriber
from tests.helpers import ALICE, active_subscriber, emulator_server

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_immediate_sending(monkeypatch):
    monkeypatch.setattr(tasks, "send_replies", lambda: None)
    monkeypatch.setattr("stadtbote.dialogue.outbox.transaction.on_commit", lambda fn: None)


@pytest.fixture
def template() -> Template:
    return Template.objects.create(
        name=chat_templates.CONCERN_NEWS,
        language="de",
        body=chat_templates.CONCERN_NEWS_BODY,
        category=Template.Category.UTILITY,
        status=Template.Status.APPROVED,
    )


def concern_of(subscriber: Subscriber | None) -> Concern:
    return actions.create_concern(
        category=Category.objects.get(name="Beleuchtung"),
        description="Laterne aus",
        conversation=actions.conversation_of(subscriber) if subscriber else None,
        source=Concern.Source.CHAT if subscriber else Concern.Source.OPEN311,
    )


def told() -> list[dict]:
    return [r.content for r in Reply.objects.order_by("id")]


def close_window(subscriber: Subscriber) -> None:
    Subscriber.objects.filter(pk=subscriber.pk).update(
        last_inbound_at=timezone.now() - timedelta(hours=25)
    )


def test_in_progress_and_resolved_are_told_inside_the_window():
    concern = concern_of(active_subscriber())
    actions.set_concern_status(concern, Status.IN_PROGRESS)
    actions.set_concern_status(concern, Status.RESOLVED, note="Leuchtmittel getauscht.")
    first, second = told()
    assert first["text"] == f"Ihre Meldung {concern.reference} wird jetzt bearbeitet. 🛠️"
    assert second["text"].startswith(f"Ihre Meldung {concern.reference} ist erledigt. ✅")
    assert "Hinweis der Stadt: Leuchtmittel getauscht." in second["text"]
    assert first["buttons"] == [] and "template" not in first
    # Staff see what the citizen was told, with its send record.
    kept = list(Message.objects.filter(direction=Message.Direction.AUTO).order_by("id"))
    assert [m.text for m in kept] == [first["text"], second["text"]]
    assert [m.reply_id for m in kept] == list(
        Reply.objects.order_by("id").values_list("id", flat=True)
    )
    assert all(m.concern_id == concern.pk for m in kept)


def test_waiting_says_what_is_missing_and_offers_to_add():
    concern = concern_of(active_subscriber())
    actions.set_concern_status(concern, Status.WAITING, note="Welche Hausnummer?")
    (news,) = told()
    assert "Wir brauchen noch etwas" in news["text"] and "Welche Hausnummer?" in news["text"]
    assert [b["id"] for b in news["buttons"]] == [f"report:add:{concern.pk}"]


def test_a_reopened_concern_is_told_so():
    concern = concern_of(active_subscriber())
    actions.set_concern_status(concern, Status.RESOLVED)
    actions.set_concern_status(concern, Status.NEW)
    assert "ist wieder offen" in told()[-1]["text"]


def test_nothing_is_told_when_nothing_changed_but_a_note_is():
    concern = concern_of(active_subscriber())
    assert actions.set_concern_status(concern, Status.NEW) is False
    assert told() == []
    actions.set_concern_status(concern, Status.NEW, note="Wir haben den Bauhof informiert.")
    (news,) = told()
    assert news["text"].startswith(f"Neues zu Ihrer Meldung {concern.reference}.")
    assert "Bauhof" in news["text"]


def test_outside_the_window_the_template_carries_the_news_on_one_line(template):
    subscriber = active_subscriber()
    concern = concern_of(subscriber)
    close_window(subscriber)
    actions.set_concern_status(concern, Status.RESOLVED, note="Erledigt.\n\nDanke!\tGruß   Bauhof")
    (news,) = told()
    assert news["template"]["name"] == "stadt_meldung"
    reference, short = news["template"]["parameters"]
    assert reference == concern.reference
    assert short == "Sie ist erledigt. Danke für Ihre Hilfe! Erledigt. Danke! Gruß Bauhof"
    assert news["text"] == f"Neues zu Ihrer Meldung {concern.reference}: {short}"
    assert Message.objects.get(direction=Message.Direction.AUTO).text == news["text"]


def test_a_long_note_is_shortened_for_the_template(template):
    subscriber = active_subscriber(wrote_just_now=False)
    concern = concern_of(subscriber)
    actions.set_concern_status(concern, Status.IN_PROGRESS, note="x" * 500)
    actions.set_concern_status(concern, Status.WAITING, note="Wort " * 100)
    for news in told():
        assert len(news["template"]["parameters"][1]) <= notify.SHORT_NEWS_MAX


def test_an_english_citizen_outside_the_window_gets_the_german_template_in_german(template):
    subscriber = active_subscriber(wrote_just_now=False)
    subscribers.set_language(subscriber, "en")
    concern = concern_of(subscriber)
    actions.set_concern_status(concern, Status.IN_PROGRESS)
    (news,) = told()
    assert news["template"]["language"] == "de"
    assert news["template"]["parameters"][1] == "Sie wird jetzt bearbeitet."


def test_an_english_citizen_inside_the_window_is_told_in_english():
    subscriber = active_subscriber()
    subscribers.set_language(subscriber, "en")
    concern = concern_of(subscriber)
    actions.set_concern_status(concern, Status.IN_PROGRESS)
    assert told()[0]["text"].startswith(f"Your report {concern.reference} is being worked on")


def test_without_the_template_nothing_is_sent_and_staff_see_why(caplog):
    subscriber = active_subscriber(wrote_just_now=False)
    concern = concern_of(subscriber)
    Template.objects.create(
        name=chat_templates.CONCERN_NEWS,
        language="de",
        body=chat_templates.CONCERN_NEWS_BODY,
        status=Template.Status.PENDING,
    )
    caplog.set_level(logging.INFO)
    actions.set_concern_status(concern, Status.RESOLVED, note="Geheimer Hinweis")
    assert told() == []
    note = Message.objects.get()
    assert note.direction == Message.Direction.NOTE and note.concern == concern
    assert note.text.startswith("Nicht mitgeteilt:") and "stadt_meldung" in note.text
    assert "Geheimer Hinweis" in note.text
    assert f"concern {concern.pk}: status news not sent" in caplog.text
    assert "Geheimer" not in caplog.text and ALICE not in caplog.text


def test_a_concern_from_open311_has_nobody_to_tell():
    concern = concern_of(None)
    actions.set_concern_status(concern, Status.RESOLVED, note="Erledigt")
    assert told() == [] and not Message.objects.exists()


def test_an_erased_citizen_is_not_told(template):
    subscriber = active_subscriber()
    concern = concern_of(subscriber)
    subscribers.erase(subscriber, wording="erased")
    concern.refresh_from_db()
    assert concern.conversation is None
    actions.set_concern_status(concern, Status.RESOLVED)
    assert told() == []


def test_an_unsubscribed_citizen_who_reported_is_still_told():
    subscriber = active_subscriber()
    concern = concern_of(subscriber)
    subscribers.unsubscribe(subscriber, wording="stop")
    actions.set_concern_status(concern, Status.IN_PROGRESS)
    assert len(told()) == 1


def test_a_change_rolled_back_tells_nobody():
    concern = concern_of(active_subscriber())

    def change_and_fail() -> None:
        with transaction.atomic():
            actions.set_concern_status(concern, Status.RESOLVED)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        change_and_fail()
    assert told() == [] and not Message.objects.exists()


def test_the_demo_registers_both_inbox_templates_with_the_emulator():
    from stadtbote import demo
    from stadtbote.channels.sending import SendLoop

    SendLoop.shutdown()
    try:
        with emulator_server() as emulator:
            assert demo.register_inbox_templates() == ["APPROVED", "APPROVED"]
            news = emulator.templates.find(chat_templates.CONCERN_NEWS, "de")
            answer = emulator.templates.find(chat_templates.REPLY_WAITING, "de")
    finally:
        SendLoop.shutdown()
    assert news.body_parameters == ["1", "2"] and news.category == "UTILITY"
    assert [b.text for b in answer.buttons] == [chat_templates.REPLY_WAITING_BUTTON]


def test_news_of_the_concern_answers_the_waiting_citizen():
    subscriber = active_subscriber()
    concern = concern_of(subscriber)
    conversation = concern.conversation
    conversation.awaiting_since = timezone.now() - timedelta(days=3)  # overdue by now
    conversation.save()
    actions.set_concern_status(concern, Status.RESOLVED, note="Repariert")
    conversation.refresh_from_db()
    assert conversation.awaiting_since is None
    assert conversation.status == Status.IN_PROGRESS
    assert conversation.first_answer_at is not None


def test_news_that_could_not_be_sent_answers_nobody(caplog):
    subscriber = active_subscriber(wrote_just_now=False)
    concern = concern_of(subscriber)
    conversation = concern.conversation
    since = timezone.now() - timedelta(days=3)
    conversation.awaiting_since = since
    conversation.save()
    actions.set_concern_status(concern, Status.RESOLVED)  # no template approved
    conversation.refresh_from_db()
    assert conversation.awaiting_since == since
