"""The inbox's domain actions: recording what citizens write, creating concerns, changing
their status. Views, the chat router, the Open311 API and the forwarder all call these.

Every function runs inside the caller's transaction; the signals it sends (signals.py) let
notifications, downloads and forwarding write their rows in the same transaction.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from stadtbote.channels.types import (
    Choice,
    CitizenMessage,
    InboundText,
    Location,
    Media,
    UnsupportedMessage,
)
from stadtbote.inbox import signals
from stadtbote.inbox.models import (
    TEXT_MAX,
    Category,
    Concern,
    ConcernEvent,
    Conversation,
    Message,
    Status,
    reference_for,
)
from stadtbote.subscribers.models import District, Subscriber

Kind = Message.Kind
MEDIA_KINDS = {k.value for k in (Kind.IMAGE, Kind.AUDIO, Kind.VIDEO, Kind.DOCUMENT, Kind.STICKER)}


def conversation_of(subscriber: Subscriber) -> Conversation:
    conversation, _ = Conversation.objects.get_or_create(subscriber=subscriber)
    return conversation


def clip(text: str) -> str:
    """What is kept of a text: WhatsApp's own limit, so nothing a phone sends is cut, and a
    forged oversized body cannot fill the database. NUL goes: PostgreSQL refuses it in text."""
    return text.replace("\x00", "")[:TEXT_MAX]


def record_inbound(
    subscriber: Subscriber, event: CitizenMessage, conversation: Conversation | None = None
) -> Message:
    """Stores a citizen's message in their conversation (`conversation`, when the caller has
    it already) and marks it as waiting for an answer. A resolved conversation opens again."""
    conversation = conversation or conversation_of(subscriber)
    message = Message(
        conversation=conversation,
        direction=Message.Direction.IN,
        created_at=event.timestamp,
        platform_id=event.message_id,
    )
    match event:
        case InboundText():
            message.kind, message.text = Kind.TEXT, clip(event.text)
        case Choice():
            message.kind, message.text = Kind.TEXT, clip(event.title)
        case Location():
            message.kind = Kind.LOCATION
            message.latitude, message.longitude = event.latitude, event.longitude
            message.text = clip(", ".join(p for p in (event.name, event.address) if p))
        case Media():
            message.kind = event.kind if event.kind in MEDIA_KINDS else Kind.OTHER
            message.text = clip(event.caption or "")
            message.media_id = event.media_id
            message.mime_type = event.mime_type[:100]
            message.filename = (event.filename or "")[:240]
            message.media_state = Message.MediaState.PENDING
        case UnsupportedMessage():
            message.kind = Kind.OTHER
    message.save()
    _note_inbound(conversation, event.timestamp)
    if message.media_state == Message.MediaState.PENDING:
        signals.media_received.send(Message, message=message)
    return message


def _note_inbound(conversation: Conversation, at: datetime) -> None:
    conversation.last_inbound_at = max(filter(None, (conversation.last_inbound_at, at)))
    if conversation.awaiting_since is None:
        conversation.awaiting_since = at
    if conversation.status == Status.RESOLVED:
        conversation.status = Status.NEW
        conversation.resolved_at = None
    conversation.save(update_fields=["last_inbound_at", "awaiting_since", "status", "resolved_at"])


def create_concern(
    *,
    category: Category,
    description: str,
    latitude: float | None = None,
    longitude: float | None = None,
    address: str = "",
    district: District | None = None,
    photo: Message | None = None,
    media_url: str = "",
    conversation: Conversation | None = None,
    source: str = Concern.Source.CHAT,
    at: datetime | None = None,
) -> Concern:
    now = at or timezone.now()
    with transaction.atomic():
        concern = Concern.objects.create(
            reference=secrets.token_hex(8),  # replaced below, once the number is known
            source=source,
            conversation=conversation,
            category=category,
            department=category.department,
            description=clip(description),
            latitude=latitude,
            longitude=longitude,
            address=clip(address)[:255],
            district=district,
            photo=photo,
            media_url=media_url,
            created_at=now,
            updated_at=now,
        )
        concern.reference = reference_for(concern.pk, now)
        concern.save(update_fields=["reference"])
        ConcernEvent.objects.create(concern=concern, at=now, status=Status.NEW)
        if photo is not None:
            Message.objects.filter(pk=photo.pk).update(concern=concern)
        if conversation is not None and concern.department_id is not None:
            # A conversation nobody has routed yet goes where its concern goes: agents filter
            # the inbox by department, and would otherwise not find the new report there.
            # A routing someone chose is never overwritten.
            unrouted = Conversation.objects.filter(pk=conversation.pk, department__isnull=True)
            if unrouted.update(department=concern.department_id):
                conversation.department_id = concern.department_id
        signals.concern_created.send(Concern, concern=concern)
    return concern


def set_concern_status(
    concern: Concern,
    status: Status,
    *,
    by: User | None = None,
    note: str = "",
    at: datetime | None = None,
) -> bool:
    """Moves a concern to `status` and records why; False if it already was there (nothing
    recorded, nobody told: a second click or a repeated status from the receiving system)."""
    if concern.status == status and not note:
        return False
    now = at or timezone.now()
    with transaction.atomic():
        changed = concern.status != status
        concern.status = status
        concern.updated_at = now
        if note:
            concern.status_note = note[:500]
        if status == Status.RESOLVED:
            concern.resolved_at = concern.resolved_at or now
        else:
            concern.resolved_at = None
        if by is not None and concern.first_answer_at is None:
            concern.first_answer_at = now
        concern.save(
            update_fields=["status", "updated_at", "status_note", "resolved_at", "first_answer_at"]
        )
        ConcernEvent.objects.create(
            concern=concern,
            at=now,
            status=status if changed else "",
            note=note[:500],
            author=by,
        )
        signals.concern_status_changed.send(
            Concern, concern=concern, status=status, note=note, by=by, changed=changed
        )
    return True
