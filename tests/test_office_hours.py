"""Office hours on the city's wall clock: the weekly spans, the state's public holidays, the
extra closed days and the holidays opened after all; and the sentence a citizen reads.

The installation's seeded hours are used: Monday to Thursday 8 to 16, Friday 8 to 12."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from stadtbote.inbox import office_hours
from stadtbote.inbox.models import ClosedDay, OfficeHours
from tests.engine_support import BERLIN

pytestmark = pytest.mark.django_db


def at(local: str) -> datetime:
    return datetime.fromisoformat(local).replace(tzinfo=BERLIN)


def opening(local: str) -> datetime | None:
    return office_hours.next_opening(at(local))


@pytest.fixture(autouse=True)
def baden_wuerttemberg(settings):
    settings.HOLIDAY_STATE = "BW"


def test_the_seeded_week():
    assert OfficeHours.objects.count() == 5
    assert office_hours.is_open(at("2026-11-24 10:00"))  # a Tuesday
    assert not office_hours.is_open(at("2026-11-24 07:59"))
    assert office_hours.is_open(at("2026-11-24 08:00"))
    assert not office_hours.is_open(at("2026-11-24 16:00"))  # closing time is closed
    assert office_hours.is_open(at("2026-11-27 11:59"))  # Friday until noon
    assert not office_hours.is_open(at("2026-11-27 12:00"))
    assert not office_hours.is_open(at("2026-11-28 10:00"))  # Saturday
    assert not office_hours.is_open(at("2026-11-29 10:00"))  # Sunday


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-11-24 10:00", "2026-11-24 10:00"),  # open: now
        ("2026-11-24 06:30", "2026-11-24 08:00"),  # early morning: today
        ("2026-11-24 17:00", "2026-11-25 08:00"),  # evening: tomorrow
        ("2026-11-24 23:59", "2026-11-25 08:00"),
        ("2026-11-27 12:00", "2026-11-30 08:00"),  # Friday afternoon: Monday
        ("2026-11-28 09:00", "2026-11-30 08:00"),  # Saturday
        ("2026-11-29 23:00", "2026-11-30 08:00"),  # Sunday night
    ],
)
def test_next_opening_in_an_ordinary_week(now, expected):
    assert opening(now) == at(expected)


def test_easter_closes_good_friday_and_easter_monday():
    assert not office_hours.is_open(at("2026-04-03 10:00"))  # Karfreitag
    assert not office_hours.is_open(at("2026-04-06 10:00"))  # Ostermontag
    assert opening("2026-04-02 16:30") == at("2026-04-07 08:00")
    assert office_hours.when_we_reply(at("2026-04-07 08:00"), at("2026-04-02 16:30")) == (
        "Dienstag, 8 Uhr"
    )


def test_christmas_and_a_closed_christmas_eve():
    # 2026: Christmas Eve is a Thursday (a working day by law), the 25th and 26th holidays.
    assert opening("2026-12-23 17:00") == at("2026-12-24 08:00")
    ClosedDay.objects.create(date=date(2026, 12, 24), name="Heiligabend")
    assert not office_hours.is_open(at("2026-12-24 09:00"))
    assert opening("2026-12-23 17:00") == at("2026-12-28 08:00")


def test_a_closed_day_of_the_city_s_own():
    ClosedDay.objects.create(date=date(2026, 11, 25), name="Betriebsausflug")
    assert not office_hours.is_open(at("2026-11-25 10:00"))
    assert opening("2026-11-24 17:00") == at("2026-11-26 08:00")


def test_a_holiday_opened_after_all():
    corpus_christi = date(2026, 6, 4)  # Fronleichnam, a holiday in Baden-Württemberg
    assert not office_hours.is_open(at("2026-06-04 10:00"))
    ClosedDay.objects.create(date=corpus_christi, name="Bürgerbüro geöffnet", open=True)
    assert office_hours.is_open(at("2026-06-04 10:00"))
    assert opening("2026-06-03 17:00") == at("2026-06-04 08:00")


def test_the_state_decides_which_holidays_close(settings):
    settings.HOLIDAY_STATE = "BW"
    assert not office_hours.is_open(at("2026-06-04 10:00"))  # Fronleichnam
    settings.HOLIDAY_STATE = "BE"
    assert office_hours.is_open(at("2026-06-04 10:00"))  # not a holiday in Berlin
    assert not office_hours.is_open(at("2027-03-08 10:00"))  # Frauentag, Berlin only (a Monday)
    settings.HOLIDAY_STATE = "BW"
    assert office_hours.is_open(at("2027-03-08 10:00"))


def test_over_the_new_year():
    # 31 Dec 2025 is a Wednesday, New Year's Day a holiday, 2 January a Friday.
    assert opening("2025-12-31 16:30") == at("2026-01-02 08:00")
    assert office_hours.when_we_reply(at("2026-01-02 08:00"), at("2025-12-31 16:30")) == (
        "Freitag, 8 Uhr"
    )
    # 2026 into 2027: the 31st a Thursday, New Year a Friday, then the weekend.
    assert opening("2026-12-31 17:00") == at("2027-01-04 08:00")


def test_the_weekends_the_clocks_change():
    spring = opening("2026-03-27 12:30")  # Friday before the switch to summer time
    assert spring == at("2026-03-30 08:00")
    assert spring.utcoffset() == timedelta(hours=2)
    assert spring.astimezone(UTC).hour == 6
    autumn = opening("2026-10-23 12:30")  # Friday before the switch back
    assert autumn == at("2026-10-26 08:00")
    assert autumn.utcoffset() == timedelta(hours=1)
    assert autumn.astimezone(UTC).hour == 7
    # An instant given in UTC is read on the local clock: 06:30 UTC on a summer Monday is 8:30.
    assert office_hours.is_open(datetime(2026, 3, 30, 6, 30, tzinfo=UTC))
    assert not office_hours.is_open(datetime(2026, 3, 27, 11, 30, tzinfo=UTC))  # 12:30 local


def test_several_spans_a_day_and_half_hours():
    OfficeHours.objects.filter(weekday=1).delete()
    OfficeHours.objects.create(weekday=1, opens=time(8, 30), closes=time(12))
    OfficeHours.objects.create(weekday=1, opens=time(13), closes=time(15, 30))
    assert not office_hours.is_open(at("2026-11-24 12:30"))
    assert opening("2026-11-24 12:30") == at("2026-11-24 13:00")
    assert office_hours.is_open(at("2026-11-24 15:29"))
    assert opening("2026-11-23 17:00") == at("2026-11-24 08:30")
    assert office_hours.when_we_reply(at("2026-11-24 08:30"), at("2026-11-23 17:00")) == (
        "morgen, 8:30 Uhr"
    )
    assert office_hours.when_we_reply(at("2026-11-24 13:00"), at("2026-11-24 12:30")) == (
        "heute, 13 Uhr"
    )


def test_no_office_hours_means_always_open():
    OfficeHours.objects.all().delete()
    assert office_hours.is_open(at("2026-11-29 03:00"))
    assert office_hours.is_open(at("2026-12-25 10:00"))
    assert opening("2026-12-25 10:00") == at("2026-12-25 10:00")


def test_every_day_closed_gives_no_opening(monkeypatch):
    monkeypatch.setattr(office_hours, "LOOKAHEAD_DAYS", 10)
    OfficeHours.objects.exclude(weekday=0).delete()
    ClosedDay.objects.create(date=date(2026, 11, 30), name="zu")
    assert opening("2026-11-24 10:00") is None


@pytest.mark.parametrize(
    ("opens", "now", "language", "expected"),
    [
        ("2026-11-30 08:00", "2026-11-27 13:00", "de", "Montag, 8 Uhr"),
        ("2026-11-30 08:00", "2026-11-27 13:00", "en", "Monday at 8:00"),
        ("2026-11-25 08:00", "2026-11-24 17:00", "en", "tomorrow at 8:00"),
        ("2026-11-24 08:00", "2026-11-24 06:00", "en", "today at 8:00"),
        ("2026-11-25 08:00", "2026-11-24 17:00", "xx", "morgen, 8 Uhr"),  # unknown: German
        # A week or more away the weekday alone would be wrong: with the date.
        ("2027-01-11 08:00", "2026-12-23 17:00", "de", "Montag, 11. Januar, 8 Uhr"),
        ("2027-01-11 08:00", "2026-12-23 17:00", "en", "Monday, 11 January at 8:00"),
    ],
)
def test_the_sentence_the_citizen_reads(opens, now, language, expected):
    assert office_hours.when_we_reply(at(opens), at(now), language) == expected


def test_a_long_closure_names_the_date():
    for day in range(24, 32):
        ClosedDay.objects.get_or_create(date=date(2026, 12, day), defaults={"name": "zu"})
    for day in range(1, 11):
        ClosedDay.objects.create(date=date(2027, 1, day), name="zu")
    now = at("2026-12-23 17:00")
    first = office_hours.next_opening(now)
    assert first == at("2027-01-11 08:00")
    assert office_hours.when_we_reply(first, now) == "Montag, 11. Januar, 8 Uhr"
