"""Background jobs for the chat: apply stored webhooks, send queued replies."""

from __future__ import annotations

from typing import Any

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from stadtbote.channels import dispatch, inbound
from stadtbote.channels.models import SendState, TrackedMessage
from stadtbote.channels.sending import Outgoing
from stadtbote.channels.types import OutboundMessage
from stadtbote.dialogue import router
from stadtbote.dialogue.models import Reply
from stadtbote.lib import crypto
from stadtbote.worker import coalesce

BATCH = 100
# Stored webhooks applied per transaction. Meta sends one status per body at a time of little
# traffic and up to 1,000 per body under load; larger batches cost fewer round trips per
# status (docs/benchmarks.md, "Status application") but hold SQLite's write lock longer, which
# the webhook intake waits for.
APPLY_BATCH = 500
APPLY_WAITING = "stadtbote:apply-inbound-waiting"
REPLIES_WAITING = "stadtbote:send-replies-waiting"


def on_webhook_stored(**_: Any) -> None:
    coalesce.schedule_once(APPLY_WAITING, apply_inbound)


def schedule_replies() -> None:
    coalesce.schedule_once(REPLIES_WAITING, send_replies)


def apply_inbound_once() -> int:
    return inbound.apply_pending(router.handle, batch_size=APPLY_BATCH)


@db_task()
def apply_inbound() -> None:
    coalesce.started(APPLY_WAITING)
    while apply_inbound_once():
        pass


def _build(row: TrackedMessage) -> Outgoing | str:
    assert isinstance(row, Reply)
    message = OutboundMessage.from_json(row.content, tracker=f"r{row.pk}")
    if row.subscriber is not None:
        return Outgoing(to=row.subscriber.phone, message=message)
    if row.recipient_encrypted:
        return Outgoing(to=crypto.decrypt(bytes(row.recipient_encrypted)), message=message)
    return "erased"


def send_replies_once() -> int:
    ids = dispatch.claim(Reply.objects.order_by("id"), BATCH)
    if ids:
        dispatch.send_claimed(
            Reply.objects.select_related("subscriber"), ids, dispatch.per_row(_build)
        )
        # A goodbye's number is kept only until it went out.
        Reply.objects.filter(id__in=ids, subscriber=None).exclude(state=SendState.QUEUED).update(
            recipient_encrypted=None
        )
    return len(ids)


@db_task()
def send_replies() -> None:
    coalesce.started(REPLIES_WAITING)
    while send_replies_once():
        pass


@db_periodic_task(crontab(minute="*"))
def sweep_dialogue() -> None:
    """The safety net behind the immediate jobs: anything left behind is taken up here."""
    dispatch.release_stale_claims(Reply)
    coalesce.started(APPLY_WAITING)
    coalesce.started(REPLIES_WAITING)
    while apply_inbound_once():
        pass
    while send_replies_once():
        pass
