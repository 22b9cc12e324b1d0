"""A citizen's conversation and concerns in their export, and gone with their erasure, files
on disk included; what they reported stays, anonymised, on the city's list of defects."""

from __future__ import annotations

import pytest
from django.db import transaction

from stadtbote.inbox import actions
from stadtbote.inbox.models import Category, Concern, Conversation, Message, Status
from stadtbote.subscribers import actions as subscribers
from stadtbote.subscribers.export import export
from tests.helpers import ALICE, BOB, active_subscriber
from tests.inbox_support import message

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_dir(settings, tmp_path):
    settings.INBOX_MEDIA_DIR = tmp_path / "inbox-media"
    return settings.INBOX_MEDIA_DIR


@pytest.fixture
def alice_wrote(django_user_model):
    alice = active_subscriber(ALICE)
    staff = django_user_model.objects.create(username="gerd.agent")
    photo = message(alice, "Hier das Foto", photo=True)
    message(alice, "Die Laterne ist aus")
    answer = message(alice, "Danke, wir kümmern uns.", direction=Message.Direction.OUT)
    Message.objects.filter(pk=answer.pk).update(author=staff)
    message(alice, "Danke für Ihre Nachricht!", direction=Message.Direction.AUTO)
    message(alice, "Bürgerin klang verärgert", direction=Message.Direction.NOTE)
    concern = actions.create_concern(
        category=Category.objects.first(),
        description="Laterne vor Nr. 5 ist aus",
        address="Lindenstraße 5",
        latitude=48.52,
        longitude=9.05,
        photo=photo,
        conversation=actions.conversation_of(alice),
    )
    return alice, photo, concern


def test_the_export_lists_messages_and_concerns_but_not_internal_notes(alice_wrote):
    alice, _, concern = alice_wrote
    inbox = export(alice)["inbox"]
    assert [(m["direction"], m["text"]) for m in inbox["messages"]] == [
        ("in", "Hier das Foto"),
        ("in", "Die Laterne ist aus"),
        ("out", "Danke, wir kümmern uns."),
        ("auto", "Danke für Ihre Nachricht!"),
    ]
    assert inbox["internal_notes_not_included"] == 1
    assert inbox["messages"][0]["file"] == {
        "name": "IMG_0001.jpg",
        "type": "image/jpeg",
        "size": 9,
        "state": "stored",
    }
    [reported] = inbox["concerns"]
    assert reported["reference"] == concern.reference
    assert reported["description"] == "Laterne vor Nr. 5 ist aus"
    assert reported["address"] == "Lindenstraße 5"
    assert reported["status"] == Status.NEW
    text = str(inbox)
    assert "verärgert" not in text and "gerd.agent" not in text


def test_someone_who_never_wrote_exports_an_empty_inbox():
    inbox = export(active_subscriber(BOB))["inbox"]
    assert inbox == {"messages": [], "internal_notes_not_included": 0, "concerns": []}


def test_erasure_removes_conversation_messages_and_files(
    alice_wrote, media_dir, django_capture_on_commit_callbacks
):
    alice, _, concern = alice_wrote
    bob = active_subscriber(BOB)
    bobs = message(bob, "Bobs Foto", photo=True)
    with django_capture_on_commit_callbacks(execute=True):
        subscribers.erase(alice, wording="Ihre Daten sind gelöscht.")
    assert not Conversation.objects.filter(subscriber_id=alice.pk).exists()
    assert list(Message.objects.values_list("pk", flat=True)) == [bobs.pk]
    assert sorted(p.name for p in media_dir.iterdir()) == [bobs.file]
    # The defect stays for the city, without the citizen's words, photo or link to them.
    concern.refresh_from_db()
    assert (concern.description, concern.photo, concern.conversation) == ("", None, None)
    assert concern.address == "Lindenstraße 5" and concern.category is not None
    assert concern.status == Status.NEW


def test_an_erasure_rolled_back_keeps_the_files(
    alice_wrote, media_dir, django_capture_on_commit_callbacks
):
    alice, photo, _ = alice_wrote

    def erase_then_fail() -> None:
        with transaction.atomic():
            subscribers.erase(alice, wording="x")
            raise RuntimeError("the erasure fails later on")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        erase_then_fail()
    assert (media_dir / photo.file).exists()
    assert Message.objects.filter(pk=photo.pk).exists()


def test_a_concern_from_another_system_is_untouched_by_an_erasure(alice_wrote):
    alice, _, _ = alice_wrote
    other = actions.create_concern(
        category=Category.objects.first(),
        description="Müll am Bach",
        source=Concern.Source.OPEN311,
    )
    subscribers.erase(alice, wording="x")
    other.refresh_from_db()
    assert other.description == "Müll am Bach"


def test_erasing_in_the_chat_takes_the_inbox_along(
    client, alice_wrote, media_dir, monkeypatch, django_capture_on_commit_callbacks
):
    from stadtbote.dialogue import tasks, texts
    from tests.helpers import button_reply, compact, post_webhook

    monkeypatch.setattr(tasks, "schedule_replies", lambda: None)
    _, photo, _ = alice_wrote
    assert post_webhook(client, compact(button_reply(ALICE, texts.ERASE_CONFIRM))).status_code
    with django_capture_on_commit_callbacks(execute=True):
        tasks.apply_inbound_once()
    assert not Conversation.objects.exists()
    assert not Message.objects.exists()
    assert not (media_dir / photo.file).exists()
