"""Days as the city counts them: in its own time zone (settings.TIME_ZONE), not in UTC."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

# Rows committed a little after the last run may carry an earlier time than it: look back.
MARGIN = timedelta(minutes=10)


def zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_day(moment: datetime) -> date:
    return moment.astimezone(zone()).date()


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone())


def since(first: date, last: date) -> list[date]:
    """Every day from first to last, both included."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
