"""Office hours as administrators keep them: a weekly table (up to two spans a day, e.g. a
lunch break), days closed besides the state's public holidays, and public holidays on which
the office opens after all. Every change is written to the audit log.

The public holidays themselves are not stored: they come from the `holidays` package for
the state in settings.HOLIDAY_STATE, and are shown read-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from itertools import pairwise

import holidays
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from stadtbote.accounts import audit
from stadtbote.inbox.models import ClosedDay, OfficeHours

MAX_SPANS = 2  # per weekday: morning and afternoon
Span = tuple[time, time]

# The states' own names (ISO 3166-2:DE codes as settings.HOLIDAY_STATE has them).
STATES = {
    "BW": "Baden-Württemberg",
    "BY": "Bayern",
    "BE": "Berlin",
    "BB": "Brandenburg",
    "HB": "Bremen",
    "HH": "Hamburg",
    "HE": "Hessen",
    "MV": "Mecklenburg-Vorpommern",
    "NI": "Niedersachsen",
    "NW": "Nordrhein-Westfalen",
    "RP": "Rheinland-Pfalz",
    "SL": "Saarland",
    "SN": "Sachsen",
    "ST": "Sachsen-Anhalt",
    "SH": "Schleswig-Holstein",
    "TH": "Thüringen",
}


class HoursError(ValueError):
    pass


def week() -> dict[int, list[Span]]:
    """Monday (0) to Sunday (6), each with its spans in order; a closed day has none."""
    found: dict[int, list[Span]] = {day: [] for day in range(7)}
    for row in OfficeHours.objects.order_by("weekday", "opens"):
        found[row.weekday].append((row.opens, row.closes))
    return found


def problems(spans: list[Span]) -> str | None:
    """Why these spans of one day cannot be, or None."""
    if len(spans) > MAX_SPANS:
        return _("At most %(n)d spans a day.") % {"n": MAX_SPANS}
    for opens, closes in spans:
        if not opens < closes:
            return _("A span must close after it opens.")
    ordered = sorted(spans)
    for (_o, closes), (opens, _c) in pairwise(ordered):
        if opens < closes:
            return _("The spans must not overlap.")
    return None


def _text(spans: list[Span]) -> str:
    return ", ".join(f"{o:%H:%M}–{c:%H:%M}" for o, c in spans)


@transaction.atomic
def set_week(by: AbstractBaseUser, new: dict[int, list[Span]]) -> bool:
    """Replaces the weekly table; days missing from `new` are closed. False if nothing
    changed (nothing recorded)."""
    for day in range(7):
        reason = problems(new.get(day, []))
        if reason is not None:
            raise HoursError(reason)
    list(OfficeHours.objects.select_for_update().values_list("pk"))
    old = week()
    wanted = {day: sorted(new.get(day, [])) for day in range(7)}
    if old == wanted:
        return False
    OfficeHours.objects.all().delete()
    OfficeHours.objects.bulk_create(
        OfficeHours(weekday=day, opens=opens, closes=closes)
        for day, spans in wanted.items()
        for opens, closes in spans
    )
    changed = {
        str(day): [_text(old[day]), _text(wanted[day])]
        for day in range(7)
        if old[day] != wanted[day]
    }
    audit.record(by, "settings.office_hours_changed", label="", changed=changed)
    return True


def state() -> str:
    code = settings.HOLIDAY_STATE
    return STATES.get(code, code)


@dataclass(frozen=True)
class Holiday:
    day: date
    name: str
    # The closed-day row that opens the office on it after all, if any.
    opened: ClosedDay | None


def public_holidays(years: list[int]) -> list[Holiday]:
    """The state's public holidays in these years, named in the staff's language."""
    language = "de" if (get_language() or "de").startswith("de") else "en_US"
    found = holidays.country_holidays(
        "DE", subdiv=settings.HOLIDAY_STATE, years=years, language=language
    )
    opened = {d.date: d for d in ClosedDay.objects.filter(open=True, date__in=list(found))}
    return [Holiday(day, name, opened.get(day)) for day, name in sorted(found.items())]


def is_public_holiday(day: date) -> bool:
    return day in holidays.country_holidays("DE", subdiv=settings.HOLIDAY_STATE, years=day.year)


@transaction.atomic
def add_closed_day(by: AbstractBaseUser, *, day: date, name: str, open: bool) -> ClosedDay:
    """A day the office is closed; or, with `open`, a public holiday it opens on after all.
    The model refuses a second entry for the same date."""
    if open and not is_public_holiday(day):
        raise HoursError(
            _("%(day)s is no public holiday in %(state)s: the office is open anyway.")
            % {"day": day.isoformat(), "state": state()}
        )
    entry = ClosedDay(date=day, name=name, open=open)
    entry.full_clean()
    entry.save()
    audit.record(by, "settings.closed_day_added", entry, date=day.isoformat(), name=name, open=open)
    return entry


@transaction.atomic
def delete_closed_day(by: AbstractBaseUser, entry: ClosedDay) -> None:
    audit.record(
        by,
        "settings.closed_day_deleted",
        entry,
        date=entry.date.isoformat(),
        name=entry.name,
        open=entry.open,
    )
    entry.delete()
