"""Addresses for a chat concern's photo that another system can fetch without an account:
signed, for one concern's photo, and good for a week.

The photo lives with the citizen's message (`Message.file` under INBOX_MEDIA_DIR). The
signature binds the concern and the message, so an address stops working when the photo
is taken off the concern, deleted after the retention period or erased with the citizen;
and one address cannot be turned into another's photo.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core import signing
from django.urls import reverse

from stadtbote.inbox.models import Concern, Message

SALT = "stadtbote.inbox.open311.media"
# Long enough for a receiving system that was down for days to fetch the photo after all.
MAX_AGE = timedelta(days=7)


def photo_url(concern: Concern, *, pending_too: bool = False) -> str | None:
    """The signed address of the concern's photo, or None without one. `pending_too`: also
    while it is still being downloaded from WhatsApp (the forwarder sends the address at
    once; it works as soon as the file is there)."""
    photo = concern.photo
    if photo is None:
        return None
    usable = {Message.MediaState.STORED} | ({Message.MediaState.PENDING} if pending_too else set())
    if photo.media_state not in usable:
        return None
    token = signing.dumps([concern.pk, photo.pk], salt=SALT)
    return f"{settings.PUBLIC_URL}{reverse('open311-media', args=[token])}"


def stored_photo(token: str) -> tuple[Path, str] | None:
    """The file and its type behind a signed address, or None if the signature is wrong
    or old, or the photo is no longer the concern's or no longer stored."""
    try:
        concern_id, message_id = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not Concern.objects.filter(pk=concern_id, photo_id=message_id).exists():
        return None
    message = Message.objects.filter(pk=message_id).first()
    if message is None or not message.has_file:
        return None
    root = Path(settings.INBOX_MEDIA_DIR).resolve()
    path = (root / message.file).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path, message.mime_type or "application/octet-stream"
