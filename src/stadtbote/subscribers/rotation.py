"""Moving every stored phone number to the current field key.

Procedure (no downtime): set STADTBOTE_FIELD_KEY to the new key and list the old one in
STADTBOTE_FIELD_KEYS_PREVIOUS, restart, run `stadtbote rotate_field_key`, then remove the old
key from STADTBOTE_FIELD_KEYS_PREVIOUS and restart again. Meanwhile look-ups try both keys'
indexes, so every subscriber stays findable. The consent ledger keeps the index it was written
with (it is append-only); its look-ups try every known key as well, so keep old keys listed as
long as their ledger lines must be found by number.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from stadtbote.dialogue.models import Reply
from stadtbote.lib import crypto
from stadtbote.subscribers.models import Subscriber


@dataclass
class RotationReport:
    subscribers: int = 0
    replies: int = 0


def rotate(batch_size: int = 1000) -> RotationReport:
    report = RotationReport()
    current = crypto.current_key().key_id
    last_id = 0
    while True:
        with transaction.atomic():
            rows = list(
                Subscriber.objects.select_for_update()
                .filter(pk__gt=last_id)
                .order_by("pk")[:batch_size]
            )
            if not rows:
                break
            last_id = rows[-1].pk
            stale = [s for s in rows if crypto.key_id_of(bytes(s.phone_encrypted)) != current]
            for subscriber in stale:
                number = subscriber.phone
                subscriber.phone_encrypted = crypto.encrypt(number)
                subscriber.phone_index = crypto.blind_index(number)
            Subscriber.objects.bulk_update(stale, ["phone_encrypted", "phone_index"])
            report.subscribers += len(stale)
    with transaction.atomic():
        goodbyes = list(Reply.objects.select_for_update().exclude(recipient_encrypted=None))
        stale_replies = [
            r for r in goodbyes if crypto.key_id_of(bytes(r.recipient_encrypted or b"")) != current
        ]
        for reply in stale_replies:
            reply.recipient_encrypted = crypto.encrypt(
                crypto.decrypt(bytes(reply.recipient_encrypted or b""))
            )
        Reply.objects.bulk_update(stale_replies, ["recipient_encrypted"])
        report.replies = len(stale_replies)
    return report
