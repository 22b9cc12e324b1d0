"""Everything that changes a subscriber goes through here, and every consent change is written
to the ledger in the same transaction.

Consent changes carry the time the citizen wrote the message (`at`). A change older than the
last one applied is ignored, so a "Stop" handled before a late-arriving, earlier "Start" stays a
Stop: the outcome is what the citizen meant, whatever order the webhooks came in.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from stadtbote.accounts import audit
from stadtbote.lib import crypto, phone
from stadtbote.public.pages import privacy_notice_version
from stadtbote.subscribers.models import ConsentEvent, District, Subscriber, Topic
from stadtbote.subscribers.signals import erasing

Status = Subscriber.Status


def find(wa_id: str) -> Subscriber | None:
    number = phone.normalize(wa_id)
    return Subscriber.objects.filter(phone_index__in=crypto.blind_indexes(number)).first()


def find_or_create(wa_id: str, *, bsuid: str | None = None) -> Subscriber:
    number = phone.normalize(wa_id)
    subscriber = find(number)
    if subscriber is None:
        subscriber, _ = Subscriber.objects.get_or_create(
            phone_index=crypto.blind_index(number),
            defaults={
                "phone_encrypted": crypto.encrypt(number),
                "country": phone.country(number),
            },
        )
    if bsuid and subscriber.bsuid != bsuid:
        Subscriber.objects.filter(bsuid=bsuid).exclude(pk=subscriber.pk).update(bsuid=None)
        subscriber.bsuid = bsuid
        subscriber.save(update_fields=["bsuid"])
    return subscriber


def note_inbound(subscriber: Subscriber, at: datetime) -> None:
    """Remember the citizen's last message: it opens WhatsApp's 24-hour service window."""
    if subscriber.last_inbound_at is None or at > subscriber.last_inbound_at:
        subscriber.last_inbound_at = at
        # Whoever writes to us is on WhatsApp: an earlier "not on WhatsApp" is outdated.
        subscriber.unreachable_code = None
        subscriber.unreachable_since = None
        subscriber.save(update_fields=["last_inbound_at", "unreachable_code", "unreachable_since"])


def _ledger(
    subscriber: Subscriber,
    action: str,
    wording: str,
    source: str = "",
    channel: str = "whatsapp",
    referral: str = "",
) -> None:
    ConsentEvent.objects.create(
        referral=referral,
        subscriber_ref=subscriber.phone_index,
        action=action,
        channel=channel,
        wording=wording,
        notice_version=privacy_notice_version(),
        source_message_id=source,
    )


def _referral(subscriber: Subscriber) -> str:
    return f"post:{subscriber.referred_by_post}" if subscriber.referred_by_post else ""


def _is_current(subscriber: Subscriber, at: datetime | None) -> bool:
    """False when a newer consent decision of the citizen has already been applied.

    Meta's timestamps have whole seconds. In a tie with an earlier "Stop" the Stop wins: when
    in doubt, Stadtbote does not send.
    """
    last = subscriber.consent_changed_at
    if at is None or last is None:
        return True
    if subscriber.status == Status.UNSUBSCRIBED:
        return at > last
    return at >= last


def _mark_decision(subscriber: Subscriber, at: datetime | None) -> list[str]:
    """Only the citizen's own messages move the timeline; staff and system actions do not."""
    if at is None:
        return []
    subscriber.consent_changed_at = at
    return ["consent_changed_at"]


@transaction.atomic
def request_subscription(
    subscriber: Subscriber,
    *,
    wording: str,
    source: str = "",
    at: datetime | None = None,
    referred_by_post: int | None = None,
) -> bool:
    """`referred_by_post`: the shared post whose subscribe link the citizen used."""
    if not _is_current(subscriber, at):
        return False
    subscriber.status = Status.PENDING
    subscriber.requested_at = timezone.now()
    subscriber.referred_by_post = referred_by_post
    moved = _mark_decision(subscriber, at)
    subscriber.save(update_fields=["status", "requested_at", "referred_by_post", *moved])
    _ledger(
        subscriber, ConsentEvent.Action.REQUESTED, wording, source, referral=_referral(subscriber)
    )
    return True


@transaction.atomic
def confirm_subscription(
    subscriber: Subscriber, *, wording: str, source: str = "", at: datetime | None = None
) -> bool:
    """Returns False when there was nothing to confirm (already active, never asked, expired,
    or the citizen has stopped since)."""
    if subscriber.status != Status.PENDING or not _is_current(subscriber, at):
        return False
    subscriber.status = Status.ACTIVE
    subscriber.confirmed_at = timezone.now()
    subscriber.unsubscribed_at = None
    moved = _mark_decision(subscriber, at)
    subscriber.save(update_fields=["status", "confirmed_at", "unsubscribed_at", *moved])
    _ledger(
        subscriber, ConsentEvent.Action.CONFIRMED, wording, source, referral=_referral(subscriber)
    )
    return True


@transaction.atomic
def unsubscribe(
    subscriber: Subscriber,
    *,
    wording: str,
    source: str = "",
    at: datetime | None = None,
    channel: str = "whatsapp",
) -> bool:
    """Stops everything at once. Returns False when there was nothing to stop.

    A "Stop" is recorded even from someone who never subscribed: an earlier "Start" of theirs
    may still be on its way, and must then not subscribe them."""
    if subscriber.status == Status.UNSUBSCRIBED:
        if at is not None and (
            subscriber.consent_changed_at is None or at > subscriber.consent_changed_at
        ):
            subscriber.consent_changed_at = at
            subscriber.save(update_fields=["consent_changed_at"])
        return False
    if not _is_current(subscriber, at):
        return False
    subscriber.status = Status.UNSUBSCRIBED
    subscriber.unsubscribed_at = timezone.now()
    moved = _mark_decision(subscriber, at)
    subscriber.save(update_fields=["status", "unsubscribed_at", *moved])
    _ledger(subscriber, ConsentEvent.Action.WITHDRAWN, wording, source, channel)
    return True


def decline_subscription(subscriber: Subscriber) -> None:
    """The citizen said no to the confirmation question: nothing was consented to."""
    if subscriber.status == Status.PENDING:
        subscriber.status = Status.CONTACT
        subscriber.save(update_fields=["status"])


@transaction.atomic
def expire_unconfirmed(older_than: timedelta) -> int:
    """Requests nobody confirmed in time go back to 'wrote, not subscribed'."""
    cutoff = timezone.now() - older_than
    expired = list(Subscriber.objects.filter(status=Status.PENDING, requested_at__lt=cutoff))
    for subscriber in expired:
        subscriber.status = Status.CONTACT
        subscriber.save(update_fields=["status"])
        _ledger(subscriber, ConsentEvent.Action.EXPIRED, "", channel="system")
    return len(expired)


# Preferences ------------------------------------------------------------------------------


def set_language(subscriber: Subscriber, language: str) -> None:
    if language not in Subscriber.Language.values:
        raise ValueError(f"unsupported language {language!r}")
    subscriber.language = language
    subscriber.save(update_fields=["language"])


def toggle_topic(subscriber: Subscriber, topic: Topic) -> bool:
    """Adds or removes one topic; returns True when it is chosen now."""
    if subscriber.topics.filter(pk=topic.pk).exists():
        subscriber.topics.remove(topic)
        return False
    subscriber.topics.add(topic)
    return True


def toggle_district(subscriber: Subscriber, district: District) -> bool:
    if subscriber.districts.filter(pk=district.pk).exists():
        subscriber.districts.remove(district)
        return False
    subscriber.districts.add(district)
    return True


def clear_topics(subscriber: Subscriber) -> None:
    """No topic chosen means every topic (except opt-in-only ones)."""
    subscriber.topics.clear()


def clear_districts(subscriber: Subscriber) -> None:
    """No district chosen means the whole city."""
    subscriber.districts.clear()


def pause(subscriber: Subscriber, days: int) -> datetime:
    if not 1 <= days <= 365:
        raise ValueError("a pause lasts between 1 and 365 days")
    subscriber.paused_until = timezone.now() + timedelta(days=days)
    subscriber.save(update_fields=["paused_until"])
    return subscriber.paused_until


def resume(subscriber: Subscriber) -> None:
    subscriber.paused_until = None
    subscriber.save(update_fields=["paused_until"])


# Platform signals --------------------------------------------------------------------------


def note_marketing_preference(subscriber: Subscriber, *, stopped: bool) -> None:
    subscriber.marketing_stopped = stopped
    subscriber.save(update_fields=["marketing_stopped"])


NOT_ON_WHATSAPP = 131026
MARKETING_STOPPED = 131050


def note_delivery_failure(subscriber: Subscriber, code: int | None) -> None:
    """Meta's failure codes that say something about the person, not the message: 131026
    (the number cannot receive WhatsApp messages) leaves them out of every send until they
    write again; 131050 (they stopped marketing messages in WhatsApp) out of posts."""
    if code == NOT_ON_WHATSAPP and subscriber.unreachable_code is None:
        subscriber.unreachable_code = code
        subscriber.unreachable_since = timezone.now()
        subscriber.save(update_fields=["unreachable_code", "unreachable_since"])
    elif code == MARKETING_STOPPED and not subscriber.marketing_stopped:
        note_marketing_preference(subscriber, stopped=True)


@transaction.atomic
def change_number(old_wa_id: str, new_wa_id: str) -> Subscriber | None:
    """WhatsApp told us the citizen moved to a new number: the subscription moves along.

    If the new number had written to us before, that contact row gives way to the moved
    subscription, whose consent history is the one that counts.
    """
    subscriber = find(old_wa_id)
    if subscriber is None:
        return None
    new_number = phone.normalize(new_wa_id)
    other = find(new_number)
    if other is not None and other.pk != subscriber.pk:
        erase(other, wording="number taken over by a moved subscription", channel="system")
    subscriber.phone_index = crypto.blind_index(new_number)
    subscriber.phone_encrypted = crypto.encrypt(new_number)
    subscriber.unreachable_code = None
    subscriber.unreachable_since = None
    subscriber.save(
        update_fields=["phone_index", "phone_encrypted", "unreachable_code", "unreachable_since"]
    )
    return subscriber


# Erasure ------------------------------------------------------------------------------------


@transaction.atomic
def erase(
    subscriber: Subscriber, *, wording: str, channel: str = "whatsapp", by: User | None = None
) -> None:
    """Art. 17: the number, choices, votes, messages and media go; counts stay anonymous.

    The ledger keeps its pseudonymous lines (the keyed index, not the number) because the city
    must be able to prove consent it relied on; a last line records the erasure itself. When
    staff erase (`by`), the audit log records who did, naming the subscriber by id only.
    """
    erasing.send(sender=Subscriber, subscriber=subscriber)
    _ledger(subscriber, ConsentEvent.Action.ERASED, wording, channel=channel)
    if by is not None:
        audit.record(by, "subscriber.erased", subscriber, label="")
    subscriber.delete()
