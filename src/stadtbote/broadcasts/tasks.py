"""Background jobs for posts. Payloads carry nothing: the rows in the database are the work."""

from __future__ import annotations

import logging
from dataclasses import replace

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from stadtbote.broadcasts import actions, templates
from stadtbote.broadcasts.models import Delivery, Post
from stadtbote.channels import dispatch, statuses
from stadtbote.channels.models import TrackedMessage
from stadtbote.channels.sending import Outgoing
from stadtbote.channels.types import OutboundMessage, TransportError

BATCH = 200
log = logging.getLogger(__name__)


def _build(row: TrackedMessage) -> Outgoing | str:
    assert isinstance(row, Delivery)
    # Checked at send time, not only at fan-out: a Stop is honoured before the next send.
    subscriber = row.subscriber
    if subscriber is None:
        return "erased"
    now = timezone.now()
    reason = subscriber.why_not_to_send(now)
    if reason is not None:
        return reason
    post = row.post
    if subscriber.window_open(now):
        message = OutboundMessage(text=post.text, preview_url=True)
    elif post.template is not None and post.template.is_usable:
        message = templates.fill(post.template, post)
    else:
        return "outside the 24-hour window and no approved template"
    return Outgoing(to=subscriber.phone, message=replace(message, tracker=f"d{row.pk}"))


def dispatch_once(batch: int = BATCH) -> int:
    """Claim and send one batch; returns how many rows were claimed."""
    # Only posts being sent (not paused or cancelled); urgent posts' deliveries first.
    sending = Delivery.objects.filter(post__status=Post.Status.SENDING)
    ids = dispatch.claim(sending.order_by("-post__urgent", "id"), batch)
    if ids:
        dispatch.send_claimed(
            Delivery.objects.select_related("post__template", "subscriber"), ids, _build
        )
    return len(ids)


@db_task()
def dispatch_deliveries() -> None:
    while dispatch_once():
        pass
    actions.finish_completed_posts()


@db_periodic_task(crontab(minute="7"))
def sync_templates() -> None:
    """Meta announces review results by webhook; this hourly sync catches a missed one."""
    try:
        templates.sync()
    except TransportError as exc:
        log.warning("template sync failed: %s", exc)


@db_periodic_task(crontab(minute="*"))
def sweep_deliveries() -> None:
    dispatch.release_stale_claims(Delivery)
    statuses.reconcile()
    actions.release_due_posts()
    dispatch_deliveries.call_local()
