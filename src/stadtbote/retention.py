"""Retention: personal data is kept only as long as it serves its purpose.

Run nightly by the worker (stadtbote/worker/tasks.py) and on demand with
`stadtbote apply_retention`. Each step is idempotent and bounded by its own cutoff.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from stadtbote.accounts import lockout
from stadtbote.channels import inbound
from stadtbote.channels.models import StatusEvent
from stadtbote.dialogue.models import ReceivedMessage, Reply
from stadtbote.inbox import retention as inbox
from stadtbote.polls import retention as polls
from stadtbote.subscribers import actions as subscribers
from stadtbote.subscribers.models import Subscriber

log = logging.getLogger(__name__)

# Status events and handled-message ids only bridge races and duplicates; a week is plenty.
SHORT_LIVED = timedelta(days=7)


@dataclass
class RetentionReport:
    expired_requests: int = 0
    erased_unsubscribed: int = 0
    emptied_webhook_bodies: int = 0
    deleted_status_events: int = 0
    deleted_message_ids: int = 0
    deleted_goodbyes: int = 0
    deleted_login_failures: int = 0
    anonymised_polls: int = 0
    deleted_inbox_messages: int = 0
    deleted_report_drafts: int = 0
    deleted_conversations: int = 0
    anonymised_concerns: int = 0
    deleted_orphan_files: int = 0
    abandoned_downloads: int = 0


def apply_retention() -> RetentionReport:
    now = timezone.now()
    report = RetentionReport()
    report.expired_requests = subscribers.expire_unconfirmed(
        timedelta(hours=settings.CONFIRMATION_HOURS)
    )
    gone = Subscriber.objects.filter(
        status=Subscriber.Status.UNSUBSCRIBED,
        unsubscribed_at__lt=now - timedelta(days=settings.RETENTION_UNSUBSCRIBED_DAYS),
    )
    for subscriber in gone.iterator():
        subscribers.erase(
            subscriber, wording="retention period after unsubscribing", channel="system"
        )
        report.erased_unsubscribed += 1
    report.emptied_webhook_bodies = inbound.purge_kept_bodies(
        timedelta(days=settings.RETENTION_MESSAGES_DAYS)
    )
    report.deleted_status_events, _ = StatusEvent.objects.filter(
        recorded_at__lt=now - SHORT_LIVED
    ).delete()
    report.deleted_message_ids, _ = ReceivedMessage.objects.filter(
        received_at__lt=now - SHORT_LIVED
    ).delete()
    report.deleted_goodbyes, _ = Reply.objects.filter(
        subscriber=None, created_at__lt=now - timedelta(days=1)
    ).delete()
    # Failed logins matter for the lockout window only (minutes); a day leaves room to look.
    report.deleted_login_failures = lockout.forget_older_than(days=1)
    report.anonymised_polls = polls.anonymise_closed_polls(
        timedelta(days=settings.RETENTION_VOTES_DAYS)
    )
    kept = inbox.apply(now, timedelta(days=settings.RETENTION_MESSAGES_DAYS))
    report.deleted_inbox_messages = kept.messages
    report.deleted_conversations = kept.conversations
    report.anonymised_concerns = kept.concerns
    report.deleted_orphan_files = kept.orphan_files
    report.abandoned_downloads = kept.abandoned_downloads
    report.deleted_report_drafts = kept.stale_drafts
    log.info("retention applied: %s", asdict(report))
    return report
