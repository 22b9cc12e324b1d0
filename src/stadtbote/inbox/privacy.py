"""A citizen's conversation and concerns in their data export, and what their erasure does here.

Export (Art. 15/20): every message from and to the citizen (automatic answers included) with
the file's type, size and state (the bytes stay on the server; staff hand them over on request),
and the concerns they reported. Internal notes are not written out: they are the staff's working
notes, may name other people, and Art. 15(4) GDPR with § 29 BDSG lets the city weigh that
first. The export says how many there are, so the data protection officer knows to look at
them; nothing is hidden. Staff names are not exported either (staff's data, not the citizen's).

Erasure (Art. 17): the conversation and its messages go with the subscriber row (cascade), and
every downloaded file with its message row (`delete_file_with_message`, which also serves the
retention job and any other deletion). Concerns the citizen reported from the chat stay for the
city's list of defects and the statistics, anonymised: their description (the citizen's own
words) and photo go, and nothing links them to the citizen any more. Category, place, status
and dates stay: a pothole at a street corner is a fact about the street, not about a person.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from stadtbote.inbox import media
from stadtbote.inbox.models import Concern, Message
from stadtbote.subscribers.models import Subscriber


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def export_inbox(subscriber: Subscriber, **_: Any) -> tuple[str, dict[str, Any]]:
    messages = Message.objects.filter(conversation__subscriber=subscriber)
    shown = messages.exclude(direction=Message.Direction.NOTE).order_by("created_at", "id")
    concerns = Concern.objects.filter(conversation__subscriber=subscriber).select_related(
        "category", "district"
    )
    return "inbox", {
        "messages": [_message(m) for m in shown],
        "internal_notes_not_included": messages.filter(direction=Message.Direction.NOTE).count(),
        "concerns": [_concern(c) for c in concerns.order_by("created_at", "id")],
    }


def _message(message: Message) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "time": _iso(message.created_at),
        "direction": message.direction,
        "kind": message.kind,
        "text": message.text,
    }
    if message.latitude is not None and message.longitude is not None:
        entry["location"] = {"latitude": message.latitude, "longitude": message.longitude}
    if message.media_state:
        entry["file"] = {
            "name": message.filename,
            "type": message.mime_type,
            "size": message.file_size,
            "state": message.media_state,
        }
    return entry


def _concern(concern: Concern) -> dict[str, Any]:
    return {
        "reference": concern.reference,
        "category": concern.category.name,
        "status": concern.status,
        "status_note": concern.status_note,
        "reported_at": _iso(concern.created_at),
        "resolved_at": _iso(concern.resolved_at),
        "description": concern.description,
        "address": concern.address,
        "latitude": concern.latitude,
        "longitude": concern.longitude,
        "district": concern.district.name if concern.district else None,
    }


def anonymise_concerns(subscriber: Subscriber, **_: Any) -> None:
    """Receiver of subscribers.signals.erasing (inside the erasure's transaction)."""
    Concern.objects.filter(conversation__subscriber=subscriber).update(
        description="", photo=None, media_url="", conversation=None
    )


def delete_file_with_message(instance: Message, **_: Any) -> None:
    """post_delete of a message: its file goes once the deletion is committed (a rolled-back
    deletion keeps it). A crash in between leaves an orphan, which retention removes."""
    name = instance.file
    if name:
        transaction.on_commit(lambda: media.delete_file(name))
