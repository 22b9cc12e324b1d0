"""Background jobs of the inbox: downloading the files citizens send.

A job carries the message id only, never a number, text or URL. Each download is queued when
the message is committed (`on_media_received`); a failed try queues the next one with a
growing delay (media.BACKOFF_SECONDS); the sweep takes up downloads whose job was lost with a
stopped worker.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from stadtbote.inbox import media
from stadtbote.inbox.models import Message


def on_media_received(message: Message, **_: Any) -> None:
    """Receiver of signals.media_received: download once the message is committed."""
    message_id = message.pk
    transaction.on_commit(lambda: download_media(message_id))


@db_task()
def download_media(message_id: int) -> None:
    result = media.download(message_id)
    if result.outcome is media.Outcome.RETRY:
        download_media.schedule((message_id,), delay=media.backoff(result.attempts))


@db_periodic_task(crontab(minute="*/5"))
def sweep_media() -> None:
    for message_id in media.overdue(timezone.now()):
        download_media(message_id)
