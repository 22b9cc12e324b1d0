"""Background jobs for posts. Payloads carry nothing: the rows in the database are the work."""

from __future__ import annotations

import logging

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from stadtbote.broadcasts import actions, delivering, templates
from stadtbote.broadcasts.models import Delivery
from stadtbote.channels import dispatch, statuses
from stadtbote.channels.types import TransportError

BATCH = 200
log = logging.getLogger(__name__)


def dispatch_once(batch: int = BATCH) -> int:
    """Claim and send one batch; returns how many rows were claimed."""
    now = timezone.now()
    delivering.hold_for_quiet_hours(now)
    ids = dispatch.claim(delivering.claimable(now), batch)
    if ids:
        dispatch.send_claimed(
            Delivery.objects.select_related("post__template", "subscriber"),
            ids,
            delivering.build_batch,
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
