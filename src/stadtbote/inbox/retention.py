"""The inbox's part of the nightly retention run (stadtbote/retention.py).

After RETENTION_MESSAGES_DAYS:
- every message goes (text, place and file alike), internal notes and automatic answers
  included; except the messages of a concern that is still open (its photo and what was said
  about it), which staff still work with: they go once the concern has been resolved for the
  period;
- a conversation with no message left and no open concern goes;
- a concern resolved that long ago keeps what the statistics and the city's list of defects
  need (category, place, district, status, dates, the city's status note) and loses the
  citizen's words: its description, its photo and photo address, and the link to the
  conversation;
- files in the media directory that no message names (left by a crash between deleting a row
  and its file, or by a download whose row went meanwhile) go as well; a stored file that has
  disappeared from disk is marked DELETED on its row, so staff see why there is none;
- a download still pending after media.GIVE_UP (a day) is marked FAILED.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from stadtbote.inbox import media, reporting
from stadtbote.inbox.models import (
    OPEN_STATUSES,
    Concern,
    Conversation,
    Message,
    ReportDraft,
    Status,
)

BATCH = 500
# A file younger than this may belong to a download finishing right now (written to disk,
# its row not yet updated): not an orphan yet.
ORPHAN_AGE = timedelta(hours=1)


@dataclass
class InboxRetention:
    messages: int = 0
    conversations: int = 0
    concerns: int = 0
    orphan_files: int = 0
    abandoned_downloads: int = 0
    stale_drafts: int = 0


def apply(now: datetime, keep: timedelta) -> InboxRetention:
    cutoff = now - keep
    report = InboxRetention()
    report.messages = _delete_messages(cutoff)
    report.conversations = _delete_empty_conversations(cutoff)
    report.concerns = _anonymise_concerns(cutoff)
    report.orphan_files = remove_orphans(now)
    report.abandoned_downloads = media.give_up(now)
    # A report left half-way holds a place and a category nobody will file; it would be
    # dropped at the citizen's next message anyway.
    report.stale_drafts, _ = ReportDraft.objects.filter(
        updated_at__lt=now - reporting.STALE
    ).delete()
    return report


def _delete_messages(cutoff: datetime) -> int:
    open_concerns = Concern.objects.filter(status__in=OPEN_STATUSES)
    expired = (
        Message.objects.filter(created_at__lt=cutoff)
        .exclude(concern__status__in=OPEN_STATUSES)
        .exclude(pk__in=open_concerns.filter(photo__isnull=False).values("photo"))
    )
    deleted = 0
    while ids := list(expired.values_list("pk", flat=True)[:BATCH]):
        # One transaction per batch; the files go after each commit (privacy.py's post_delete).
        with transaction.atomic():
            deleted += Message.objects.filter(pk__in=ids).delete()[1].get("inbox.Message", 0)
    return deleted


def _delete_empty_conversations(cutoff: datetime) -> int:
    empty = Conversation.objects.filter(created_at__lt=cutoff).filter(
        ~Exists(Message.objects.filter(conversation=OuterRef("pk"))),
        ~Exists(Concern.objects.filter(conversation=OuterRef("pk"), status__in=OPEN_STATUSES)),
    )
    _, by_model = empty.delete()
    return by_model.get("inbox.Conversation", 0)


def _anonymise_concerns(cutoff: datetime) -> int:
    resolved = Concern.objects.filter(status=Status.RESOLVED, resolved_at__lt=cutoff)
    personal = (
        ~Q(description="")
        | Q(photo__isnull=False)
        | ~Q(media_url="")
        | Q(conversation__isnull=False)
    )
    return resolved.filter(personal).update(
        description="", photo=None, media_url="", conversation=None
    )


def remove_orphans(now: datetime) -> int:
    """Deletes files no message names; marks stored messages whose file is gone DELETED."""
    folder = media.media_dir()
    if not folder.is_dir():
        return 0
    known = set(Message.objects.exclude(file="").values_list("file", flat=True))
    oldest = time.time() - ORPHAN_AGE.total_seconds()
    removed = 0
    present: set[str] = set()
    for path in folder.iterdir():
        if not path.is_file():
            continue
        present.add(path.name)
        if path.name in known or path.stat().st_mtime > oldest:
            continue
        path.unlink(missing_ok=True)
        removed += 1
    missing = known - present
    if missing:
        Message.objects.filter(file__in=missing, media_state=Message.MediaState.STORED).update(
            media_state=Message.MediaState.DELETED, file=""
        )
    return removed
