"""Everything that changes a subscriber goes through here, and every consent change is written
to the ledger in the same transaction."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from stadtbote.lib import crypto, phone
from stadtbote.subscribers.models import ConsentEvent, Subscriber


def find(wa_id: str) -> Subscriber | None:
    return Subscriber.objects.filter(phone_index=crypto.blind_index(phone.normalize(wa_id))).first()


def find_or_create(wa_id: str) -> Subscriber:
    number = phone.normalize(wa_id)
    subscriber, _ = Subscriber.objects.get_or_create(
        phone_index=crypto.blind_index(number),
        defaults={"phone_encrypted": crypto.encrypt(number)},
    )
    return subscriber


def note_inbound(subscriber: Subscriber, at: datetime) -> None:
    """Remember the citizen's last message: it opens WhatsApp's 24-hour service window."""
    if subscriber.last_inbound_at is None or at > subscriber.last_inbound_at:
        subscriber.last_inbound_at = at
        subscriber.save(update_fields=["last_inbound_at"])


def _ledger(subscriber: Subscriber, action: str, wording: str, source: str) -> None:
    ConsentEvent.objects.create(
        subscriber_ref=subscriber.phone_index,
        action=action,
        wording=wording,
        notice_version=settings.PRIVACY_NOTICE_VERSION,
        source_message_id=source,
    )


@transaction.atomic
def request_subscription(subscriber: Subscriber, *, wording: str, source: str = "") -> None:
    subscriber.status = Subscriber.Status.PENDING
    subscriber.save(update_fields=["status"])
    _ledger(subscriber, ConsentEvent.Action.REQUESTED, wording, source)


@transaction.atomic
def confirm_subscription(subscriber: Subscriber, *, wording: str, source: str = "") -> bool:
    """Returns False when there was nothing to confirm (already active or never asked)."""
    if subscriber.status != Subscriber.Status.PENDING:
        return False
    subscriber.status = Subscriber.Status.ACTIVE
    subscriber.confirmed_at = timezone.now()
    subscriber.unsubscribed_at = None
    subscriber.save(update_fields=["status", "confirmed_at", "unsubscribed_at"])
    _ledger(subscriber, ConsentEvent.Action.CONFIRMED, wording, source)
    return True


@transaction.atomic
def unsubscribe(subscriber: Subscriber, *, wording: str, source: str = "") -> bool:
    """Stops everything at once. Returns False when the citizen was not subscribed."""
    if subscriber.status == Subscriber.Status.UNSUBSCRIBED:
        return False
    subscriber.status = Subscriber.Status.UNSUBSCRIBED
    subscriber.unsubscribed_at = timezone.now()
    subscriber.save(update_fields=["status", "unsubscribed_at"])
    _ledger(subscriber, ConsentEvent.Action.WITHDRAWN, wording, source)
    return True


def decline_subscription(subscriber: Subscriber) -> None:
    """The citizen said no to the confirmation question: nothing was consented to."""
    if subscriber.status == Subscriber.Status.PENDING:
        subscriber.status = Subscriber.Status.CONTACT
        subscriber.save(update_fields=["status"])
