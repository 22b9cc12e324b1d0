"""When someone at the city reads the chat: the weekly office hours, minus the state's public
holidays and the extra closed days, plus the holidays the office opens on after all.

Everything is the city's local wall clock (settings.TIME_ZONE, Europe/Berlin): "8 to 16" stays
8 to 16 across the switch to and from summer time.

No office-hours rows at all means the city has not said when it works: the chat then counts as
always open and no citizen is told to wait (better no notice than a wrong one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings

from stadtbote.inbox.models import ClosedDay, OfficeHours

# How far ahead the next opening is looked for; beyond this the hours are misconfigured (every
# day closed) and the citizen is told "as soon as possible" instead of a date.
LOOKAHEAD_DAYS = 400


@dataclass(frozen=True)
class Span:
    opens: time
    closes: time


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


@lru_cache(maxsize=64)
def _public_holidays(state: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("DE", subdiv=state, years=year))


def is_public_holiday(day: date) -> bool:
    """A public holiday of HOLIDAY_STATE (nationwide ones included)."""
    return day in _public_holidays(settings.HOLIDAY_STATE, day.year)


class Schedule:
    """The office hours and closed days, read once for one question."""

    def __init__(self, start: date, days: int) -> None:
        self.spans: dict[int, list[Span]] = {}
        for row in OfficeHours.objects.order_by("weekday", "opens"):
            self.spans.setdefault(row.weekday, []).append(Span(row.opens, row.closes))
        self.exceptions: dict[date, bool] = dict(
            ClosedDay.objects.filter(
                date__gte=start, date__lte=start + timedelta(days=days)
            ).values_list("date", "open")
        )

    @property
    def empty(self) -> bool:
        return not self.spans

    def spans_on(self, day: date) -> list[Span]:
        """The opening spans of a calendar day: none on a closed day or a public holiday,
        unless a ClosedDay row opens the holiday."""
        opened = self.exceptions.get(day)
        if opened is False:
            return []
        if opened is None and is_public_holiday(day):
            return []
        return self.spans.get(day.weekday(), [])


def _local(at: datetime) -> datetime:
    return at.astimezone(local_zone())


def is_open(at: datetime) -> bool:
    """Whether someone works on the chat at this moment."""
    moment = _local(at)
    schedule = Schedule(moment.date(), 0)
    if schedule.empty:
        return True
    now = moment.time()
    return any(span.opens <= now < span.closes for span in schedule.spans_on(moment.date()))


def next_opening(at: datetime) -> datetime | None:
    """`at` itself when open, else the start of the next opening span (local time); None
    only when no day within LOOKAHEAD_DAYS opens (every day closed: misconfigured)."""
    moment = _local(at)
    schedule = Schedule(moment.date(), LOOKAHEAD_DAYS)
    if schedule.empty:
        return at
    for offset in range(LOOKAHEAD_DAYS + 1):
        day = moment.date() + timedelta(days=offset)
        for span in schedule.spans_on(day):
            if offset == 0 and moment.time() >= span.closes:
                continue
            if offset == 0 and span.opens <= moment.time():
                return at
            # A wall-clock time: the zone gives it the day's own offset (CET or CEST).
            return datetime.combine(day, span.opens, tzinfo=local_zone())
    return None


# The citizen's sentence ------------------------------------------------------------------------

_WEEKDAYS = {
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS = {
    "de": [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}
_RELATIVE = {"de": ("heute", "morgen"), "en": ("today", "tomorrow")}


def _clock(moment: datetime, language: str) -> str:
    hours_minutes = f"{moment.hour}:{moment.minute:02d}"
    if language == "de":
        return f"{moment.hour} Uhr" if moment.minute == 0 else f"{hours_minutes} Uhr"
    return hours_minutes


def _day(day: date, today: date, language: str) -> str:
    ahead = (day - today).days
    if ahead in (0, 1):
        return _RELATIVE[language][ahead]
    weekday = _WEEKDAYS[language][day.weekday()]
    if ahead < 7:
        return weekday
    # A week or more away (Christmas to New Year, a long closure): the weekday alone would
    # name the wrong one, so the date goes with it.
    month = _MONTHS[language][day.month - 1]
    if language == "de":
        return f"{weekday}, {day.day}. {month}"
    return f"{weekday}, {day.day} {month}"


def when_we_reply(opening: datetime, now: datetime, language: str = "de") -> str:
    """'Montag, 8 Uhr', 'morgen, 8:30 Uhr', 'tomorrow at 8:00' …: the next opening as the
    citizen reads it, relative to `now`."""
    language = language if language in _WEEKDAYS else "de"
    opening, today = _local(opening), _local(now).date()
    day = _day(opening.date(), today, language)
    if language == "de":
        return f"{day}, {_clock(opening, language)}"
    return f"{day} at {_clock(opening, language)}"
