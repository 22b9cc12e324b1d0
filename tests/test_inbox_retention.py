"""The inbox in the nightly retention run: old messages go with their files, empty
conversations go, resolved concerns keep their statistics and lose the citizen's words, and
files nobody names are removed."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from stadtbote import retention
from stadtbote.inbox import actions
from stadtbote.inbox.models import Category, Concern, Conversation, Message, Status
from tests.helpers import ALICE, BOB, active_subscriber
from tests.inbox_support import message, stored_file

pytestmark = pytest.mark.django_db
DAYS = 30


@pytest.fixture(autouse=True)
def media_dir(settings, tmp_path):
    settings.INBOX_MEDIA_DIR = tmp_path / "inbox-media"
    settings.RETENTION_MESSAGES_DAYS = DAYS
    return settings.INBOX_MEDIA_DIR


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    def apply() -> retention.RetentionReport:
        # The files go after the commit, as in the nightly job.
        with django_capture_on_commit_callbacks(execute=True):
            return retention.apply_retention()

    return apply


def ago(days: float):
    return timezone.now() - timedelta(days=days)


def test_old_messages_go_with_their_files_and_new_ones_stay(run, media_dir):
    alice = active_subscriber(ALICE)
    message(alice, "Alte Frage", at=ago(DAYS + 1))
    old_photo = message(alice, "Foto", at=ago(DAYS + 1), photo=True)
    message(alice, "Notiz", at=ago(DAYS + 2), direction=Message.Direction.NOTE)
    new_photo = message(alice, "Neues Foto", at=ago(DAYS - 1), photo=True)
    report = run()
    assert report.deleted_inbox_messages == 3
    assert list(Message.objects.values_list("pk", flat=True)) == [new_photo.pk]
    assert not (media_dir / old_photo.file).exists()
    assert (media_dir / new_photo.file).exists()
    assert Conversation.objects.count() == 1  # a message is left
    assert run().deleted_inbox_messages == 0  # nothing left to do


def test_a_conversation_with_nothing_left_goes(run):
    alice, bob = active_subscriber(ALICE), active_subscriber(BOB)
    message(alice, "alt", at=ago(DAYS + 5))
    message(bob, "neu")
    Conversation.objects.update(created_at=ago(DAYS + 10))
    report = run()
    assert report.deleted_conversations == 1
    assert list(Conversation.objects.values_list("subscriber", flat=True)) == [bob.pk]


def test_an_open_concern_keeps_its_messages_and_its_conversation(run, media_dir):
    alice = active_subscriber(ALICE)
    photo = message(alice, at=ago(DAYS + 3), photo=True)
    concern = actions.create_concern(
        category=Category.objects.first(),
        description="Laterne aus",
        conversation=actions.conversation_of(alice),
        photo=photo,
        at=ago(DAYS + 3),
    )
    said = message(alice, "Noch immer aus", at=ago(DAYS + 2))
    Message.objects.filter(pk=said.pk).update(concern=concern)
    message(alice, "Etwas anderes", at=ago(DAYS + 2))
    Conversation.objects.update(created_at=ago(DAYS + 10))
    report = run()
    assert report.deleted_inbox_messages == 1
    assert set(Message.objects.values_list("pk", flat=True)) == {photo.pk, said.pk}
    assert (media_dir / photo.file).exists()
    assert report.deleted_conversations == 0
    # Resolved, then the period passes: the messages go, the concern keeps its statistics.
    actions.set_concern_status(concern, Status.RESOLVED, at=ago(DAYS + 1))
    # The citizen was told (an automatic answer in the conversation), back then too.
    told = Message.objects.filter(direction=Message.Direction.AUTO)
    assert told.count() == 1
    told.update(created_at=ago(DAYS + 1))
    report = run()
    assert report.deleted_inbox_messages == 3
    assert report.anonymised_concerns == 1
    assert report.deleted_conversations == 1
    assert not (media_dir / photo.file).exists()
    concern.refresh_from_db()
    assert concern.description == "" and concern.photo is None and concern.conversation is None
    assert concern.category is not None and concern.status == Status.RESOLVED
    assert concern.created_at and concern.resolved_at


def test_a_concern_resolved_recently_keeps_its_description(run):
    concern = actions.create_concern(
        category=Category.objects.first(),
        description="Schlagloch",
        address="Hauptstraße 1",
        latitude=48.5,
        longitude=9.0,
        source=Concern.Source.OPEN311,
        media_url="https://example.org/photo.jpg",
        at=ago(DAYS + 20),
    )
    actions.set_concern_status(concern, Status.RESOLVED, at=ago(DAYS - 1))
    assert run().anonymised_concerns == 0
    actions.set_concern_status(concern, Status.RESOLVED, note="erledigt", at=ago(DAYS + 1))
    Concern.objects.filter(pk=concern.pk).update(resolved_at=ago(DAYS + 1))
    assert run().anonymised_concerns == 1
    concern.refresh_from_db()
    assert (concern.description, concern.media_url) == ("", "")
    assert (concern.address, concern.latitude, concern.longitude) == ("Hauptstraße 1", 48.5, 9.0)
    assert concern.status_note == "erledigt"


def test_files_nobody_names_are_removed_once_they_are_old(run, media_dir):
    alice = active_subscriber(ALICE)
    kept = message(alice, photo=True)
    orphan, young_orphan = stored_file(), stored_file()
    part = media_dir / ".0123abcd.part"
    part.write_bytes(b"half")
    hours_ago = time.time() - 2 * 3600
    for path in (media_dir / orphan, part):
        os.utime(path, (hours_ago, hours_ago))
    report = run()
    assert report.deleted_orphan_files == 2
    assert sorted(p.name for p in media_dir.iterdir()) == sorted([kept.file, young_orphan])


def test_a_stored_file_missing_on_disk_is_marked_deleted(run, media_dir):
    alice = active_subscriber(ALICE)
    photo = message(alice, "Foto", photo=True)
    (media_dir / photo.file).unlink()
    run()
    photo.refresh_from_db()
    assert photo.media_state == Message.MediaState.DELETED
    assert photo.file == "" and photo.text == "Foto"


def test_no_media_directory_yet(run, media_dir):
    assert not media_dir.exists()
    assert run().deleted_orphan_files == 0


def test_a_download_pending_for_days_is_given_up(run):
    alice = active_subscriber(ALICE)
    stuck = message(alice, "Foto", at=ago(2))
    Message.objects.filter(pk=stuck.pk).update(media_state=Message.MediaState.PENDING)
    assert run().abandoned_downloads == 1
    stuck.refresh_from_db()
    assert stuck.media_state == Message.MediaState.FAILED


def test_a_report_left_half_way_goes_and_one_under_way_stays(run):
    from stadtbote.inbox.models import ReportDraft

    lighting = Category.objects.get(service_code="beleuchtung")
    for number, hours in ((ALICE, 3), (BOB, 1)):
        ReportDraft.objects.create(
            subscriber=active_subscriber(number),
            step=ReportDraft.Step.LOCATION,
            category=lighting,
            updated_at=timezone.now() - timedelta(hours=hours),
        )
    assert run().deleted_report_drafts == 1
    assert list(ReportDraft.objects.values_list("subscriber__phone_index", flat=True)) == [
        active_subscriber(BOB).phone_index
    ]
