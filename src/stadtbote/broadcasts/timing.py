"""When a non-urgent post may reach a citizen: outside the quiet hours (Europe/Berlin), and
at most DAILY_CAP non-urgent posts per citizen and day."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings


def _city_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _clock(value: str) -> time:
    hours, _, minutes = value.partition(":")
    return time(int(hours), int(minutes or 0))


def quiet_until(now: datetime) -> datetime | None:
    """The end of the quiet hours if `now` falls within them, else None. The quiet hours may
    run over midnight (21:00 to 07:00, the default) or not (13:00 to 14:00)."""
    start, end = _clock(settings.QUIET_HOURS_START), _clock(settings.QUIET_HOURS_END)
    if start == end:
        return None  # switched off
    local = now.astimezone(_city_zone())
    clock = local.time()
    inside = start <= clock < end if start < end else clock >= start or clock < end
    if not inside:
        return None
    day = local.date() if clock < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=_city_zone())


def start_of_day(now: datetime) -> datetime:
    """Midnight in the city: the daily cap counts from here."""
    local = now.astimezone(_city_zone())
    return datetime.combine(local.date(), time(0), tzinfo=_city_zone())


def next_morning(now: datetime) -> datetime:
    """Where the daily cap holds the excess: the end of the next night's quiet hours, or
    midnight when there are none."""
    local = now.astimezone(_city_zone())
    tomorrow = local.date() + timedelta(days=1)
    end = _clock(settings.QUIET_HOURS_END)
    if settings.QUIET_HOURS_START == settings.QUIET_HOURS_END:
        end = time(0)
    return datetime.combine(tomorrow, end, tzinfo=_city_zone())
