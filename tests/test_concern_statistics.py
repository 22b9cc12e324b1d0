"""The statistics of concerns, against figures worked out by hand from concerns with fixed
times: counts by category, district and status, per day, response and resolution times
(median and 90th percentile), open and overdue. The page, its CSV and the API show counts
and times only, to those who may see them."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation

from stadtbote.accounts.tokens import create_token
from stadtbote.inbox import actions, statistics
from stadtbote.inbox.models import Category, Concern, Conversation, Status
from stadtbote.subscribers.models import District
from tests.helpers import ALICE, BOB, active_subscriber

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=BERLIN)
PAGE = "/posteingang/statistik/"
CSV = PAGE + "anliegen.csv"
CAROL = "491705555555"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 6, day, hour, minute, tzinfo=BERLIN)


def concern(
    code: str,
    created: datetime,
    *,
    district: District | None = None,
    answered: float | None = None,
    resolved: float | None = None,
    status: str = Status.NEW,
    description: str = "Schlagloch",
) -> Concern:
    """A concern created at `created`, first answered and resolved so many hours later."""
    made = actions.create_concern(
        category=Category.objects.get(service_code=code),
        description=description,
        district=district,
        at=created,
    )
    Concern.objects.filter(pk=made.pk).update(
        status=status,
        first_answer_at=None if answered is None else created + timedelta(hours=answered),
        resolved_at=None if resolved is None else created + timedelta(hours=resolved),
    )
    made.refresh_from_db()
    return made


def conversation(
    number: str,
    created: datetime,
    *,
    answered: float | None = None,
    awaiting_since: datetime | None = None,
    status: str = Status.NEW,
) -> Conversation:
    made = Conversation.objects.create(subscriber=active_subscriber(number), status=status)
    # created_at is set on insert (auto_now_add): the fixed time is written afterwards.
    Conversation.objects.filter(pk=made.pk).update(
        created_at=created,
        first_answer_at=None if answered is None else created + timedelta(hours=answered),
        awaiting_since=awaiting_since,
    )
    return made


@pytest.fixture
def week():
    """Seven days up to NOW (Monday 9 June 00:00 to Monday 15 June 12:00, Berlin), with one
    concern just before them."""
    nord = District.objects.create(name="Nord", slug="nord", position=1)
    sued = District.objects.create(name="Süd", slug="sued", position=2)
    concern("beleuchtung", at(9, 0), district=sued, answered=8, status=Status.IN_PROGRESS)
    concern(
        "strasse-gehweg", at(10, 10), district=nord, answered=2, resolved=10, status=Status.RESOLVED
    )
    concern("strasse-gehweg", at(10, 11), district=nord, answered=4, status=Status.IN_PROGRESS)
    concern("muell", at(12, 9), district=sued, answered=1, resolved=30, status=Status.RESOLVED)
    concern("muell", at(14, 8))  # never answered: overdue at NOW
    concern("beleuchtung", at(15, 11), answered=0.5, status=Status.WAITING)
    concern("muell", at(8, 23, 59))  # the day before the period: only "open" and "overdue"
    conversation(ALICE, at(11, 10), answered=3, status=Status.RESOLVED)
    conversation(BOB, at(13, 9), awaiting_since=at(13, 9))  # overdue
    # Older than the period, answered then; waiting again since an hour ago.
    conversation(
        CAROL,
        datetime(2026, 6, 1, 9, tzinfo=BERLIN),
        answered=1,
        awaiting_since=at(15, 11),
        status=Status.WAITING,
    )


def test_the_counts_of_the_period_are_those_worked_out_by_hand(week):
    with translation.override("de"):
        found = statistics.compute(7, now=NOW)
    assert found.total == 6
    assert found.since == at(9, 0)
    categories = {b.key: b.count for b in found.by_category}
    assert categories == {
        "strasse-gehweg": 2,
        "beleuchtung": 2,
        "muell": 2,
        "gruenflaechen": 0,
        "verkehrszeichen": 0,
        "sonstiges": 0,
    }
    assert [(b.name, b.count) for b in found.by_district] == [
        ("Nord", 2),
        ("Süd", 2),
        ("ohne Stadtteil", 2),
    ]
    assert {b.key: b.count for b in found.by_status} == {
        "new": 1,
        "in_progress": 2,
        "waiting": 1,
        "resolved": 2,
    }
    assert [(d.day, n) for d, n in found.per_day] == [
        (9, 1),
        (10, 2),
        (11, 0),
        (12, 1),
        (13, 0),
        (14, 1),
        (15, 1),
    ]


def test_response_and_resolution_times_are_medians_and_90th_percentiles_in_hours(week):
    found = statistics.compute(7, now=NOW)
    # Answered after 0.5, 1, 2, 4 and 8 hours: the median is the middle one; the 90th
    # percentile lies 60 % of the way from the 4th (4 h) to the 5th (8 h).
    assert found.concern_response == statistics.Times(5, 2.0, 6.4)
    # Resolved after 10 and 30 hours.
    assert found.resolution == statistics.Times(2, 20.0, 28.0)
    # One conversation of the period was answered, after 3 hours; the older one is not counted.
    assert found.conversation_response == statistics.Times(1, 3.0, 3.0)


def test_open_and_overdue_are_of_now_whenever_created(week, settings):
    settings.INBOX_RESPONSE_HOURS = 24
    found = statistics.compute(7, now=NOW)
    assert (found.open_concerns, found.overdue_concerns) == (5, 2)
    assert (found.open_conversations, found.overdue_conversations) == (2, 1)
    settings.INBOX_RESPONSE_HOURS = 72  # Bob has waited 51 hours, the 14th's concern 28
    found = statistics.compute(7, now=NOW)
    assert (found.overdue_concerns, found.overdue_conversations) == (1, 0)


def test_a_longer_period_takes_in_the_day_before(week):
    found = statistics.compute(30, now=NOW)
    assert found.total == 7 and len(found.per_day) == 30
    assert found.per_day[-8] == (at(8, 0).date(), 1)


def test_an_inactive_category_stays_in_the_table_while_it_has_concerns(week):
    Category.objects.filter(service_code__in=["muell", "sonstiges"]).update(active=False)
    keys = [b.key for b in statistics.compute(7, now=NOW).by_category]
    assert "muell" in keys and "sonstiges" not in keys


def test_an_empty_period_has_zero_counts_and_no_times():
    with translation.override("de"):
        found = statistics.compute(7, now=NOW)
    assert found.total == 0 and all(n == 0 for _, n in found.per_day)
    assert found.concern_response == statistics.Times(0, None, None)
    assert found.by_district == [statistics.Bucket("", "ohne Stadtteil", 0)]


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        ([], 0.5, None),
        ([5.0], 0.9, 5.0),
        ([4.0, 1.0, 3.0, 2.0], 0.5, 2.5),
        ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 0.9, 9.1),
        ([1.0, 1.0, 1.0], 0.9, 1.0),
    ],
)
def test_percentiles_interpolate_between_the_nearest_ranks(values, fraction, expected):
    found = statistics.percentile(values, fraction)
    assert found == (None if expected is None else pytest.approx(expected))


def test_an_answer_recorded_before_the_concern_counts_as_no_wait():
    assert statistics.times([timedelta(hours=-2), timedelta(hours=2)]) == statistics.Times(
        2, 1.0, 1.8
    )


@pytest.mark.parametrize(
    ("raw", "days"),
    [
        ("7", 7),
        ("365", 365),
        (None, 30),
        ("", 30),
        ("8", 30),
        ("-7", 30),
        ("abc", 30),
        ("7.0", 30),
        ("9" * 40, 30),
    ],
)
def test_the_page_takes_a_known_period_or_the_default(raw, days):
    assert statistics.period_days(raw) == days


def test_a_period_beyond_the_limits_is_refused_by_the_domain():
    for days in (0, statistics.MAX_DAYS + 1):
        with pytest.raises(ValueError, match="days"):
            statistics.compute(days)


# The page, the CSV and the API


@pytest.fixture
def recent():
    """Concerns of the last hours, whatever the time of the run."""
    now = timezone.now()
    nord = District.objects.create(name="Nord", slug="nord")
    Category.objects.filter(service_code="sonstiges").update(name="=HYPERLINK(1)")
    concern(
        "muell",
        now - timedelta(hours=5),
        district=nord,
        answered=2,
        resolved=4,
        status=Status.RESOLVED,
        description="Geheime Beschreibung",
    )
    concern("sonstiges", now - timedelta(hours=1), description="Noch geheimer")
    return Concern.objects.order_by("created_at")


@pytest.mark.parametrize("name", ["gerd", "vera"])
def test_agents_and_viewers_see_the_page_with_charts_and_tables(as_, people, recent, name):
    answer = as_(people[name]).get(PAGE, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 200
    page = answer.content.decode()
    assert page.count('<svg class="chart" role="img"') == 4
    assert page.count('<table class="figures">') == 5
    assert "Müll" in page and "Nord" in page and "no district" in page
    assert answer.context["found"].days == 30 and answer.context["found"].total == 2
    # No single concern: neither its reference nor its description.
    for c in recent:
        assert c.reference not in page and c.description not in page


@pytest.mark.parametrize("name", ["ida", "erika", "paula", "dora"])
def test_those_without_the_permission_are_refused(as_, people, name):
    client = as_(people[name])
    assert client.get(PAGE).status_code == 403
    assert client.get(CSV).status_code == 403


def test_a_visitor_is_sent_to_the_login(client):
    assert client.get(PAGE).status_code == 302 and client.get(CSV).status_code == 302


def test_the_navigation_leads_to_the_page_for_those_who_may(as_, people):
    assert PAGE in as_(people["vera"]).get("/redaktion/").content.decode()
    assert PAGE not in as_(people["erika"]).get("/redaktion/").content.decode()


@pytest.mark.parametrize(("raw", "days"), [("7", 7), ("90", 90), ("1000", 30), ("x", 30)])
def test_the_page_shows_the_chosen_period_or_the_default(as_, people, raw, days):
    answer = as_(people["vera"]).get(PAGE, {"tage": raw})
    assert answer.status_code == 200
    assert answer.context["found"].days == days
    assert f'<option value="{days}" selected>' in answer.content.decode()


def test_the_page_is_in_german_too(as_, people, recent):
    page = as_(people["vera"]).get(PAGE, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Statistik der Meldungen" in page and "ohne Stadtteil" in page
    assert "Meldungen nach Kategorie" in page and "erledigt" in page


def test_the_csv_has_the_three_tables_and_no_single_concern(as_, people, recent):
    answer = as_(people["gerd"]).get(CSV, {"tage": "7"}, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="anliegen-7-tage.csv"' in answer["Content-Disposition"]
    body = answer.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    table = {(r["group"], r["key"]): int(r["concerns"]) for r in rows}
    assert table[("category", "muell")] == 1 and table[("category", "sonstiges")] == 1
    assert table[("district", "nord")] == 1 and table[("district", "")] == 1
    assert table[("status", "resolved")] == 1 and table[("status", "new")] == 1
    assert {r["group"] for r in rows} == {"category", "district", "status"}
    # A name that looks like a formula stays text in a spreadsheet.
    assert "'=HYPERLINK(1)" in body
    for c in recent:
        assert c.reference not in body and c.description not in body


@pytest.fixture
def api(client, people):
    def get(user: str, **params: str):
        token = create_token(people[user], read_only=True)
        return client.get("/api/v1/stats/concerns", params, HTTP_AUTHORIZATION=f"Bearer {token}")

    return get


def test_the_api_gives_the_same_figures(api, recent):
    answer = api("vera", days="7")
    assert answer.status_code == 200
    data = answer.json()
    assert data["days"] == 7 and data["total"] == 2 and len(data["per_day"]) == 7
    assert {c["service_code"]: c["count"] for c in data["by_category"]}["muell"] == 1
    assert {d["slug"]: d["count"] for d in data["by_district"]} == {"nord": 1, None: 1}
    assert {s["status"]: s["count"] for s in data["by_status"]}["resolved"] == 1
    assert data["response_hours"]["concerns"] == {"count": 1, "median": 2.0, "p90": 2.0}
    assert data["resolution_hours"] == {"count": 1, "median": 4.0, "p90": 4.0}
    assert data["open_concerns"] == 1
    body = answer.content.decode()
    for c in recent:
        assert c.reference not in body and c.description not in body


def test_the_api_defaults_to_thirty_days(api):
    data = api("gerd").json()
    assert data["days"] == 30 and len(data["per_day"]) == 30


@pytest.mark.parametrize("days", ["0", "-1", "732", "abc", "1.5"])
def test_the_api_refuses_a_bad_period(api, days):
    answer = api("vera", days=days)
    assert answer.status_code == 422
    assert answer.json()["detail"]


def test_the_api_needs_the_permission_and_a_token(api, client):
    assert api("erika").status_code == 403
    assert api("ida").status_code == 403
    assert client.get("/api/v1/stats/concerns").status_code == 401
