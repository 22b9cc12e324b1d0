"""Helpers for the inbox tests: citizens who wrote, a photo on disk as the downloader leaves
it, a concern from the chat and one from Open311, the approved "answer waiting" template."""

from __future__ import annotations

import secrets
import struct
import zlib
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from stadtbote.broadcasts.models import Template
from stadtbote.channels.types import InboundText, Location
from stadtbote.inbox import actions, chat_templates
from stadtbote.inbox.models import Category, Concern, Conversation, Message
from stadtbote.subscribers.models import Subscriber
from tests.helpers import ALICE, active_subscriber, wamid


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A plain-coloured PNG, made here so that no image file is kept in the repository."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


# A photo of a pothole, as far as tests are concerned: 160 x 120 of asphalt grey.
PNG = _png(160, 120, (90, 90, 96))


def citizen(number: str = ALICE, *, wrote_just_now: bool = True) -> Subscriber:
    return active_subscriber(number, wrote_just_now=wrote_just_now)


def writes(subscriber: Subscriber, text: str, at: datetime | None = None) -> Message:
    """The citizen's message, stored as the chat router stores it."""
    event = InboundText(sender="", message_id=wamid(), timestamp=at or timezone.now(), text=text)
    return actions.record_inbound(subscriber, event)


def sends_place(
    subscriber: Subscriber, latitude: float, longitude: float, name: str = "Marktplatz"
) -> Message:
    event = Location(
        sender="",
        message_id=wamid(),
        timestamp=timezone.now(),
        latitude=latitude,
        longitude=longitude,
        name=name,
    )
    return actions.record_inbound(subscriber, event)


def stored_photo(
    conversation: Conversation,
    *,
    content: bytes = PNG,
    mime_type: str = "image/png",
    kind: str = Message.Kind.IMAGE,
    caption: str = "",
) -> Message:
    """A file the citizen sent, downloaded: a random name under INBOX_MEDIA_DIR."""
    root = settings.INBOX_MEDIA_DIR
    root.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(12)}.bin"
    (root / name).write_bytes(content)
    return Message.objects.create(
        conversation=conversation,
        direction=Message.Direction.IN,
        kind=kind,
        text=caption,
        created_at=timezone.now(),
        mime_type=mime_type,
        file=name,
        file_size=len(content),
        filename="IMG_2026_Max_Mustermann.png",
        media_state=Message.MediaState.STORED,
    )


def category(name: str = "Straßenschäden") -> Category:
    found = Category.objects.filter(name=name).first()
    if found is not None:
        return found
    return Category.objects.create(name=name, service_code=secrets.token_hex(4))


def chat_concern(
    conversation: Conversation,
    *,
    description: str = "Schlagloch vor dem Rathaus",
    photo: Message | None = None,
    at: datetime | None = None,
    **fields: Any,
) -> Concern:
    return actions.create_concern(
        category=fields.pop("category", None) or category(),
        description=description,
        conversation=conversation,
        photo=photo,
        at=at,
        **fields,
    )


def open311_concern(**fields: Any) -> Concern:
    return actions.create_concern(
        category=fields.pop("category", None) or category(),
        description=fields.pop("description", "Laterne defekt"),
        source=Concern.Source.OPEN311,
        media_url="https://defects.example/photo/1.jpg",
        latitude=fields.pop("latitude", 50.81),
        longitude=fields.pop("longitude", 8.77),
        **fields,
    )


def reply_waiting_template(language: str = "de") -> Template:
    body, buttons = chat_templates.TEMPLATES[chat_templates.REPLY_WAITING]
    return Template.objects.create(
        name=chat_templates.REPLY_WAITING,
        language=language,
        body=body,
        buttons=buttons,
        category=Template.Category.UTILITY,
        status=Template.Status.APPROVED,
    )


def hours_ago(hours: float) -> datetime:
    return timezone.now() - timedelta(hours=hours)
