"""Background jobs of the Open311 forwarder (forwarder.py). Imported by the inbox app's
ready(), since huey's discovery only finds modules named `<app>.tasks`."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from stadtbote.inbox.open311 import forwarder


@db_task()
def forward_concern(concern_id: int) -> None:
    """Right after a concern was created: sends it, or leaves it to the sweep's retries."""
    forwarder.forward(concern_id)


@db_periodic_task(crontab(minute="*"))
def open311_forwarding() -> None:
    """Sends what is due (first attempts missed, retries) and pulls statuses back."""
    if not forwarder.enabled():
        return
    forwarder.send_due()
    forwarder.pull_statuses()
