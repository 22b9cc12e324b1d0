from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from stadtbote.channels.models import InboundWebhook, StatusEvent
from stadtbote.dialogue.models import ReceivedMessage, Reply
from stadtbote.lib import crypto
from stadtbote.retention import apply_retention
from stadtbote.subscribers import actions as subscribers
from stadtbote.subscribers.models import ConsentEvent, Subscriber
from tests.helpers import ALICE, BOB, active_subscriber

pytestmark = pytest.mark.django_db

LONG_AGO = timezone.now() - timedelta(days=400)


def test_unsubscribed_subscribers_are_erased_after_the_period(settings):
    settings.RETENTION_UNSUBSCRIBED_DAYS = 30
    old, recent = active_subscriber(ALICE), active_subscriber(BOB)
    for s in (old, recent):
        subscribers.unsubscribe(s, wording="bye")
    Subscriber.objects.filter(pk=old.pk).update(unsubscribed_at=timezone.now() - timedelta(days=31))
    report = apply_retention()
    assert report.erased_unsubscribed == 1
    assert subscribers.find(ALICE) is None
    assert subscribers.find(BOB) is not None
    assert ConsentEvent.objects.filter(action="erased").count() == 1


def test_unconfirmed_requests_expire_after_the_configured_hours(settings):
    settings.CONFIRMATION_HOURS = 2
    subscriber = subscribers.find_or_create(ALICE)
    subscribers.request_subscription(subscriber, wording="q")
    Subscriber.objects.update(requested_at=timezone.now() - timedelta(hours=3))
    assert apply_retention().expired_requests == 1


def test_bodies_kept_for_inspection_are_emptied_after_the_period_but_pending_ones_kept(settings):
    settings.RETENTION_MESSAGES_DAYS = 30
    malformed = InboundWebhook.objects.create(body=b"{1}", content_hash="a", state="malformed")
    pending = InboundWebhook.objects.create(body=b"{2}", content_hash="b", state="pending")
    recent = InboundWebhook.objects.create(body=b"{3}", content_hash="c", state="failed")
    InboundWebhook.objects.exclude(pk=recent.pk).update(received_at=LONG_AGO)
    assert apply_retention().emptied_webhook_bodies == 1
    for row, body in ((malformed, b""), (pending, b"{2}"), (recent, b"{3}")):
        row.refresh_from_db()
        assert bytes(row.body) == body


def test_short_lived_records_go_after_a_week():
    subscriber = active_subscriber()
    StatusEvent.objects.create(message_id="w", status="sent", occurred_at=LONG_AGO)
    StatusEvent.objects.update(recorded_at=LONG_AGO)
    ReceivedMessage.objects.create(message_id="m", subscriber=subscriber, received_at=LONG_AGO)
    Reply.objects.create(
        subscriber=None, recipient_encrypted=crypto.encrypt(ALICE), content={"text": "bye"}
    )
    Reply.objects.update(created_at=LONG_AGO)
    report = apply_retention()
    assert (report.deleted_status_events, report.deleted_message_ids, report.deleted_goodbyes) == (
        1,
        1,
        1,
    )


def test_the_command_prints_what_it_did(capsys):
    call_command("apply_retention")
    assert '"erased_unsubscribed": 0' in capsys.readouterr().out
