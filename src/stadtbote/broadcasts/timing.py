"""When a non-urgent post may reach a citizen: outside the quiet hours (Europe/Berlin), and
at most the daily cap of non-urgent posts per citizen and day (both: sending_rules.current())."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from stadtbote.broadcasts import sending_rules


def _city_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _clock(value: str) -> time:
    hours, _, minutes = value.partition(":")
    return time(int(hours), int(minutes or 0))


def quiet_until(now: datetime) -> datetime | None:
    """The end of the quiet hours if `now` falls within them, else None. The quiet hours may
    run over midnight (21:00 to 07:00, the default) or not (13:00 to 14:00)."""
    rules = sending_rules.current()
    start, end = _clock(rules.quiet_hours_start), _clock(rules.quiet_hours_end)
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
    rules = sending_rules.current()
    end = _clock(rules.quiet_hours_end)
    if rules.quiet_hours_off:
        end = time(0)
    return datetime.combine(tomorrow, end, tzinfo=_city_zone())
