"""Jobs that span several apps."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from stadtbote.retention import apply_retention


@db_periodic_task(crontab(hour="3", minute="15"))
def nightly_retention() -> None:
    apply_retention()
