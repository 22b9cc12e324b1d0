"""Conversations with messages and files on disk, for the retention and privacy tests."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from stadtbote.inbox.actions import conversation_of
from stadtbote.inbox.models import Message
from stadtbote.subscribers.models import Subscriber


def stored_file(data: bytes = b"\xff\xd8 photo") -> str:
    folder = settings.INBOX_MEDIA_DIR
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.jpg"
    (folder / name).write_bytes(data)
    return name


def message(
    subscriber: Subscriber,
    text: str = "",
    *,
    at: datetime | None = None,
    direction: str = Message.Direction.IN,
    photo: bool = False,
) -> Message:
    return Message.objects.create(
        conversation=conversation_of(subscriber),
        direction=direction,
        kind=Message.Kind.IMAGE if photo else Message.Kind.TEXT,
        text=text,
        created_at=at or timezone.now(),
        media_state=Message.MediaState.STORED if photo else "",
        file=stored_file() if photo else "",
        mime_type="image/jpeg" if photo else "",
        file_size=9 if photo else None,
        filename="IMG_0001.jpg" if photo else "",
    )
