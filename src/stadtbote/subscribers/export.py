"""Art. 15/20 export: everything stored about one subscriber, machine-readable."""

from __future__ import annotations

from typing import Any, cast

from django.utils import timezone

from stadtbote.lib import crypto
from stadtbote.subscribers.models import ConsentEvent, Subscriber
from stadtbote.subscribers.signals import exporting


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def consent_history(number: str) -> list[dict[str, Any]]:
    """The ledger lines of a number, found under every key it may have been indexed with."""
    events = ConsentEvent.objects.filter(subscriber_ref__in=crypto.blind_indexes(number))
    return [
        {
            "at": _iso(e.occurred_at),
            "action": e.action,
            "channel": e.channel,
            "wording": e.wording,
            "notice_version": e.notice_version,
            "source_message_id": e.source_message_id,
        }
        for e in events.order_by("occurred_at", "id")
    ]


def export(subscriber: Subscriber) -> dict[str, Any]:
    number = subscriber.phone
    data: dict[str, Any] = {
        "exported_at": timezone.now().isoformat(),
        "subscriber": {
            "phone_number": f"+{number}",
            "bsuid": subscriber.bsuid,
            "status": subscriber.status,
            "language": subscriber.language,
            "topics": list(subscriber.topics.values_list("name", flat=True)),
            "districts": list(subscriber.districts.values_list("name", flat=True)),
            "paused_until": _iso(subscriber.paused_until),
            "created_at": _iso(subscriber.created_at),
            "confirmed_at": _iso(subscriber.confirmed_at),
            "unsubscribed_at": _iso(subscriber.unsubscribed_at),
            "last_message_at": _iso(subscriber.last_inbound_at),
            "marketing_stopped_in_whatsapp": subscriber.marketing_stopped,
            "unreachable_code": subscriber.unreachable_code,
        },
        "consent_history": consent_history(number),
    }
    for _, response in exporting.send(sender=Subscriber, subscriber=subscriber):
        section, value = cast(tuple[str, Any], response)
        data[section] = value
    return data
