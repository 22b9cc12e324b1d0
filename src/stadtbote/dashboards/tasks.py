"""The dashboards' rollup, every minute, in whichever worker takes it first."""

from __future__ import annotations

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from stadtbote.dashboards import rollup


@db_periodic_task(crontab(minute="*"))
def refresh_dashboards() -> None:
    rollup.refresh(timezone.now())
