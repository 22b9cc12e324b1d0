"""The inbox's settings pages: departments, categories, canned replies, office hours and
closed days, kept by administrators (everyone else 403). Wrong input is refused in the page
with a reason and changes nothing; every change is in the audit log."""

from __future__ import annotations

from datetime import date, time

import pytest
from django.test import Client

from stadtbote.accounts.models import AuditEntry
from stadtbote.inbox import actions
from stadtbote.inbox.models import (
    CannedReply,
    Category,
    ClosedDay,
    Concern,
    Conversation,
    Department,
    OfficeHours,
)
from tests.helpers import active_subscriber, staff_login

pytestmark = pytest.mark.django_db

BASE = "/redaktion/einstellungen/"
DEPARTMENTS = BASE + "abteilungen/"
CATEGORIES = BASE + "kategorien/"
REPLIES = BASE + "textbausteine/"
HOURS = BASE + "sprechzeiten/"


@pytest.fixture
def ida(as_, people):
    """The administrator's client, answered in English (the messages tested are English)."""
    client = as_(people["ida"])
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _audit(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def _concern(category: Category, **extra) -> Concern:
    return actions.create_concern(category=category, description="Schlagloch", **extra)


def _seeded(code: str) -> Category:
    return Category.objects.get(service_code=code)


# Who may


def _some_pages() -> list[str]:
    department = Department.objects.first()
    category = Category.objects.first()
    reply = CannedReply.objects.create(title="Danke", text="Danke für Ihre Meldung.")
    assert department and category
    return [
        DEPARTMENTS,
        f"{DEPARTMENTS}{department.pk}/",
        CATEGORIES,
        f"{CATEGORIES}{category.pk}/",
        REPLIES,
        f"{REPLIES}{reply.pk}/",
        HOURS,
    ]


def test_an_administrator_sees_every_page_and_the_navigation_names_them(ida):
    for path in _some_pages():
        answer = ida.get(path)
        assert answer.status_code == 200, path
    nav = ida.get(HOURS).content.decode()
    for path in (DEPARTMENTS, CATEGORIES, REPLIES, HOURS):
        assert f'href="{path}"' in nav
    assert 'href="/redaktion/einstellungen/sprechzeiten/" aria-current="page"' in nav


@pytest.mark.parametrize("name", ["erika", "paula", "gerd", "vera", "dora"])
def test_everyone_else_is_refused_and_changes_nothing(as_, people, name):
    client = as_(people[name])
    for path in _some_pages():
        assert client.get(path).status_code == 403, path
    department = Department.objects.first()
    category = Category.objects.first()
    assert department and category
    posts = [
        (DEPARTMENTS, {"name": "Neu"}),
        (f"{DEPARTMENTS}{department.pk}/delete/", {}),
        (f"{CATEGORIES}{category.pk}/down/", {}),
        (CATEGORIES, {"name": "Neu", "service_code": "neu", "active": "on"}),
        (REPLIES, {"title": "T", "text": "x"}),
        (HOURS, {"form": "closed", "closed-date": "2027-12-24", "closed-name": "Heiligabend"}),
    ]
    for path, data in posts:
        assert client.post(path, data).status_code == 403, path
    assert Department.objects.filter(pk=department.pk).exists()
    assert not AuditEntry.objects.filter(action__startswith="settings.").exists()
    assert not ClosedDay.objects.exists()


def test_a_visitor_who_is_not_logged_in_is_sent_to_the_login(client):
    answer = client.get(CATEGORIES)
    assert answer.status_code == 302 and "/staff/login/" in answer["Location"]


def test_a_form_without_its_csrf_token_is_refused(people):
    strict = Client(enforce_csrf_checks=True)
    staff_login(strict, people["ida"])
    assert strict.post(DEPARTMENTS, {"name": "Kämmerei"}).status_code == 403
    assert not Department.objects.filter(name="Kämmerei").exists()


# Departments


def test_a_department_is_added_at_the_end_renamed_and_recorded(ida):
    answer = ida.post(DEPARTMENTS, {"name": "Kämmerei"})
    assert answer.status_code == 302
    added = Department.objects.get(name="Kämmerei")
    assert added.position == max(Department.objects.values_list("position", flat=True))
    (entry,) = _audit("settings.department_added")
    assert entry.target_id == str(added.pk) and entry.actor_name == "ida"
    assert ida.post(f"{DEPARTMENTS}{added.pk}/", {"name": "Stadtkasse"}).status_code == 302
    (entry,) = _audit("settings.department_changed")
    assert entry.details == {"changed": {"name": ["Kämmerei", "Stadtkasse"]}}


@pytest.mark.parametrize(
    ("name", "problem"),
    [("Tiefbauamt", "already exists"), ("", "required"), ("x" * 101, "at most 100")],
)
def test_a_wrong_department_is_refused_with_a_reason(ida, name, problem):
    before = Department.objects.count()
    answer = ida.post(DEPARTMENTS, {"name": name})
    assert answer.status_code == 200
    assert problem in " ".join(answer.context["form"].errors["name"])
    assert 'role="alert"' in answer.content.decode()
    assert Department.objects.count() == before
    assert not AuditEntry.objects.filter(action__startswith="settings.").exists()


def test_departments_are_reordered(ida):
    names = list(Department.objects.values_list("name", flat=True))
    second = Department.objects.get(name=names[1])
    assert ida.post(f"{DEPARTMENTS}{second.pk}/up/").status_code == 302
    assert list(Department.objects.values_list("name", flat=True))[:2] == [names[1], names[0]]
    (entry,) = _audit("settings.department_moved")
    assert entry.details == {"position": [2, 1]}
    first = Department.objects.first()
    assert first is not None
    ida.post(f"{DEPARTMENTS}{first.pk}/up/")  # already first: nothing moves
    assert len(_audit("settings.department_moved")) == 1


def test_a_department_with_concerns_is_deleted_and_they_become_unassigned(ida):
    department = Department.objects.get(name="Tiefbauamt")
    category = _seeded("strasse-gehweg")
    concern = _concern(category)
    conversation = Conversation.objects.create(
        subscriber=active_subscriber(), department=department
    )
    reply = CannedReply.objects.create(title="Schlagloch", text="Wir sehen es uns an.")
    reply.department = department
    reply.save()
    page = ida.get(f"{DEPARTMENTS}{department.pk}/").content.decode()
    assert "leaves 1 concern unassigned" in page
    assert "leaves 1 conversation unassigned" in page
    assert "offers 1 canned reply to every department" in page

    answer = ida.post(f"{DEPARTMENTS}{department.pk}/delete/", follow=True)
    assert "1 concerns and 1 conversations are unassigned" in answer.content.decode()
    assert not Department.objects.filter(pk=department.pk).exists()
    concern.refresh_from_db()
    conversation.refresh_from_db()
    category.refresh_from_db()
    reply.refresh_from_db()
    assert concern.department is None and conversation.department is None
    assert category.department is None
    assert reply.department is None  # kept, for everyone
    (entry,) = _audit("settings.department_deleted")
    assert entry.details["unassigned"]["concerns"] == 1


def test_department_steps_need_a_post_a_known_step_and_a_known_department(ida):
    department = Department.objects.first()
    assert department is not None
    assert ida.get(f"{DEPARTMENTS}{department.pk}/delete/").status_code == 405
    assert ida.post(f"{DEPARTMENTS}{department.pk}/sideways/").status_code == 404
    assert ida.post(f"{DEPARTMENTS}999999/delete/").status_code == 404
    assert ida.get(f"{DEPARTMENTS}999999/").status_code == 404
    assert Department.objects.filter(pk=department.pk).exists()


# Categories


def _category(**data: str) -> dict[str, str]:
    return {"name": "Spielplatz", "service_code": "spielplatz", "active": "on", **data}


def test_a_category_is_added_with_its_department_and_recorded(ida):
    department = Department.objects.get(name="Grünflächenamt")
    answer = ida.post(CATEGORIES, _category(department=str(department.pk), description="Geräte"))
    assert answer.status_code == 302
    added = Category.objects.get(service_code="spielplatz")
    assert (added.name, added.department, added.active) == ("Spielplatz", department, True)
    (entry,) = _audit("settings.category_added")
    assert entry.details["values"]["department"] == "Grünflächenamt"


@pytest.mark.parametrize(
    ("data", "field", "problem"),
    [
        ({"name": "x" * 25}, "name", "at most 24"),
        ({"name": "Müll"}, "name", "already exists"),
        ({"service_code": "muell"}, "service_code", "already exists"),
        ({"service_code": "mit leerzeichen"}, "service_code", "letters, numbers"),
        ({"service_code": "ä<script>"}, "service_code", "letters, numbers"),
        ({"service_code": ""}, "service_code", "required"),
        ({"description": "d" * 73}, "description", "at most 72"),
        ({"department": "999999"}, "department", "valid choice"),
        ({"department": "abc"}, "department", "valid choice"),
    ],
)
def test_a_wrong_category_is_refused_with_a_reason(ida, data, field, problem):
    before = Category.objects.count()
    answer = ida.post(CATEGORIES, _category(**data))
    assert answer.status_code == 200
    assert problem in " ".join(answer.context["form"].errors[field])
    assert Category.objects.count() == before
    assert not AuditEntry.objects.filter(action__startswith="settings.").exists()


def test_the_eleventh_offered_category_is_refused_but_may_wait_unoffered(ida):
    offered = Category.objects.filter(active=True).count()
    for n in range(10 - offered):
        assert (
            ida.post(CATEGORIES, _category(name=f"K{n}", service_code=f"k{n}")).status_code == 302
        )
    assert Category.objects.filter(active=True).count() == 10
    answer = ida.post(CATEGORIES, _category(name="Elf", service_code="elf"))
    assert answer.status_code == 200
    assert "At most 10 categories can be offered" in answer.content.decode()
    assert not Category.objects.filter(service_code="elf").exists()
    # Not offered, it is kept for later.
    waiting = _category(name="Elf", service_code="elf")
    del waiting["active"]
    assert ida.post(CATEGORIES, waiting).status_code == 302
    elf = Category.objects.get(service_code="elf")
    # Offering it later is refused alike, until another one is taken out of the chat.
    answer = ida.post(f"{CATEGORIES}{elf.pk}/", _category(name="Elf", service_code="elf"))
    assert "At most 10 categories can be offered" in answer.content.decode()
    elf.refresh_from_db()
    assert elf.active is False
    sonstiges = _seeded("sonstiges")
    taken_out = {"name": sonstiges.name, "service_code": sonstiges.service_code}
    assert ida.post(f"{CATEGORIES}{sonstiges.pk}/", taken_out).status_code == 302
    assert (
        ida.post(f"{CATEGORIES}{elf.pk}/", _category(name="Elf", service_code="elf")).status_code
        == 302
    )
    elf.refresh_from_db()
    assert elf.active is True and Category.objects.filter(active=True).count() == 10


def test_a_category_in_use_is_taken_out_of_the_chat_not_deleted_and_keeps_its_code(ida):
    muell = _seeded("muell")
    concern = _concern(muell)
    page = ida.get(f"{CATEGORIES}{muell.pk}/").content.decode()
    assert "1 concerns have this category" in page
    assert 'name="service_code"' in page and "disabled" in page
    answer = ida.post(
        f"{CATEGORIES}{muell.pk}/",
        {"name": "Abfall", "service_code": "abfall", "description": "Wilder Müll"},
    )
    assert answer.status_code == 302
    muell.refresh_from_db()
    assert (muell.name, muell.service_code, muell.active) == ("Abfall", "muell", False)
    (entry,) = _audit("settings.category_changed")
    assert entry.details["changed"]["active"] == [True, False]
    assert "service_code" not in entry.details["changed"]
    answer = ida.post(f"{CATEGORIES}{muell.pk}/delete/", follow=True)
    assert "1 concerns have this category" in answer.content.decode()
    assert Category.objects.filter(pk=muell.pk).exists()
    concern.refresh_from_db()
    assert concern.category == muell


def test_an_unused_category_may_change_its_code_and_be_deleted(ida):
    ida.post(CATEGORIES, _category())
    added = Category.objects.get(service_code="spielplatz")
    answer = ida.post(f"{CATEGORIES}{added.pk}/", _category(service_code="spielplaetze"))
    assert answer.status_code == 302
    added.refresh_from_db()
    assert added.service_code == "spielplaetze"
    assert ida.post(f"{CATEGORIES}{added.pk}/delete/").status_code == 302
    assert not Category.objects.filter(pk=added.pk).exists()
    (entry,) = _audit("settings.category_deleted")
    assert entry.details == {"service_code": "spielplaetze"}


def test_categories_are_reordered_as_the_chat_shows_them(ida):
    codes = list(Category.objects.values_list("service_code", flat=True))
    first = _seeded(codes[0])
    assert ida.post(f"{CATEGORIES}{first.pk}/down/").status_code == 302
    assert list(Category.objects.values_list("service_code", flat=True))[:2] == [
        codes[1],
        codes[0],
    ]
    assert ida.post(f"{CATEGORIES}{first.pk}/nowhere/").status_code == 404


# Canned replies


def test_canned_replies_are_added_changed_and_deleted_and_their_text_stays_out_of_the_log(ida):
    department = Department.objects.get(name="Ordnungsamt")
    text = "Vielen Dank, wir kümmern uns."
    assert ida.post(REPLIES, {"title": "Danke", "text": text}).status_code == 302
    assert (
        ida.post(
            REPLIES, {"title": "Müll", "text": "Abholung", "department": department.pk}
        ).status_code
        == 302
    )
    for_all = CannedReply.objects.get(title="Danke")
    own = CannedReply.objects.get(title="Müll")
    assert for_all.department is None and own.department == department
    page = ida.get(REPLIES).content.decode()
    assert "every department" in page and "Ordnungsamt" in page
    answer = ida.post(f"{REPLIES}{for_all.pk}/", {"title": "Dank", "text": text + "!"})
    assert answer.status_code == 302
    assert ida.post(f"{REPLIES}{own.pk}/loeschen/").status_code == 302
    assert list(CannedReply.objects.values_list("title", flat=True)) == ["Dank"]
    (changed,) = _audit("settings.cannedreply_changed")
    assert changed.details["title"] == ["Danke", "Dank"] and changed.details["text_changed"]
    entries = AuditEntry.objects.filter(action__startswith="settings.cannedreply")
    assert entries.count() == 4
    assert all(text not in str(e.details) for e in entries)


@pytest.mark.parametrize(
    ("data", "field", "problem"),
    [
        ({"title": "", "text": "x"}, "title", "required"),
        ({"title": "t" * 81, "text": "x"}, "title", "at most 80"),
        ({"title": "T", "text": ""}, "text", "required"),
        ({"title": "T", "text": "x" * 4097}, "text", "at most 4096"),
        ({"title": "T", "text": "x", "department": "999999"}, "department", "valid choice"),
    ],
)
def test_a_wrong_canned_reply_is_refused(ida, data, field, problem):
    answer = ida.post(REPLIES, data)
    assert answer.status_code == 200
    assert problem in " ".join(answer.context["form"].errors[field])
    assert not CannedReply.objects.exists()


def test_a_canned_reply_that_does_not_exist_is_not_found(ida):
    assert ida.get(f"{REPLIES}999999/").status_code == 404
    assert ida.post(f"{REPLIES}999999/loeschen/").status_code == 404
    assert ida.get(f"{REPLIES}1/loeschen/").status_code in (404, 405)


# Office hours


def _week(**cells: str) -> dict[str, str]:
    """The weekly form: Monday to Friday 08:00 to 12:00 unless `cells` say otherwise."""
    data = {"form": "hours"}
    for day in range(5):
        data[f"d{day}_opens1"], data[f"d{day}_closes1"] = "08:00", "12:00"
    return data | cells


def test_the_weekly_hours_are_replaced_and_recorded(ida):
    answer = ida.post(
        HOURS, _week(d1_opens2="13:00", d1_closes2="17:30", d5_opens1="09:00", d5_closes1="11:00")
    )
    assert answer.status_code == 302
    rows = list(OfficeHours.objects.values_list("weekday", "opens", "closes"))
    assert (1, time(13), time(17, 30)) in rows and (5, time(9), time(11)) in rows
    assert (0, time(8), time(12)) in rows and len(rows) == 7
    (entry,) = _audit("settings.office_hours_changed")
    assert entry.details["changed"]["1"] == ["08:00–16:00", "08:00–12:00, 13:00–17:30"]
    assert entry.details["changed"]["5"] == ["", "09:00–11:00"]
    # The page shows what is stored; saving it unchanged records nothing.
    page = ida.get(HOURS).content.decode()
    assert 'name="d1_closes2" value="17:30"' in page
    ida.post(
        HOURS, _week(d1_opens2="13:00", d1_closes2="17:30", d5_opens1="09:00", d5_closes1="11:00")
    )
    assert len(_audit("settings.office_hours_changed")) == 1


def test_spans_that_touch_are_allowed(ida):
    assert ida.post(HOURS, _week(d0_opens2="12:00", d0_closes2="14:00")).status_code == 302
    assert OfficeHours.objects.filter(weekday=0).count() == 2


@pytest.mark.parametrize(
    ("cells", "problem"),
    [
        ({"d0_opens1": "12:00", "d0_closes1": "08:00"}, "must close after it opens"),
        ({"d0_opens1": "08:00", "d0_closes1": "08:00"}, "must close after it opens"),
        ({"d0_opens2": "11:00", "d0_closes2": "14:00"}, "must not overlap"),
        ({"d0_opens2": "07:00", "d0_closes2": "09:00"}, "must not overlap"),
        ({"d0_opens2": "13:00"}, "both times"),
        ({"d0_opens1": "25:00"}, "valid time"),
        ({"d0_closes1": "mittags"}, "valid time"),
    ],
)
def test_wrong_hours_are_refused_in_the_row_and_nothing_changes(ida, cells, problem):
    before = list(OfficeHours.objects.values_list("weekday", "opens", "closes"))
    answer = ida.post(HOURS, _week(**cells))
    assert answer.status_code == 200
    page = answer.content.decode()
    assert problem in page and 'role="alert"' in page
    assert list(OfficeHours.objects.values_list("weekday", "opens", "closes")) == before
    assert not _audit("settings.office_hours_changed")


def test_an_unknown_form_is_not_found(ida):
    assert ida.post(HOURS, {"form": "other"}).status_code == 404


# Closed days and public holidays


def test_the_states_public_holidays_of_this_and_next_year_are_shown_read_only(ida, settings):
    settings.HOLIDAY_STATE = "BY"
    from django.utils import timezone

    year = timezone.localdate().year
    page = ida.get(HOURS).content.decode()
    assert "Public holidays in Bayern" in page
    assert page.count("<td>Christmas Day</td>") == 2  # this year and next, in English
    assert "Corpus Christi" in page  # not a holiday everywhere
    assert f"{year + 1}" in page
    de = ida.get(HOURS, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Fronleichnam" in de and "Öffentliche Feiertage in Bayern" in de


def test_a_closed_day_is_added_shown_and_deleted(ida):
    answer = ida.post(
        HOURS, {"form": "closed", "closed-date": "2027-12-24", "closed-name": "Heiligabend"}
    )
    assert answer.status_code == 302
    day = ClosedDay.objects.get()
    assert (day.date, day.name, day.open) == (date(2027, 12, 24), "Heiligabend", False)
    assert "Heiligabend" in ida.get(HOURS).content.decode()
    (entry,) = _audit("settings.closed_day_added")
    assert entry.details == {"date": "2027-12-24", "name": "Heiligabend", "open": False}
    assert ida.post(f"{HOURS}tage/{day.pk}/loeschen/").status_code == 302
    assert not ClosedDay.objects.exists()
    assert len(_audit("settings.closed_day_deleted")) == 1


def test_a_public_holiday_may_be_opened_after_all(ida, settings):
    settings.HOLIDAY_STATE = "BW"
    answer = ida.post(
        HOURS,
        {
            "form": "closed",
            "closed-date": "06.01.2027",  # typed the German way
            "closed-name": "Heilige Drei Könige",
            "closed-open": "on",
        },
    )
    assert answer.status_code == 302
    assert ClosedDay.objects.get().open is True


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"closed-date": "2027-02-30", "closed-name": "x"}, "valid date"),
        ({"closed-date": "morgen", "closed-name": "x"}, "valid date"),
        ({"closed-date": "", "closed-name": "x"}, "required"),
        ({"closed-date": "2027-12-24", "closed-name": ""}, "required"),
        ({"closed-date": "2027-12-24", "closed-name": "n" * 101}, "at most 100"),
        (
            {"closed-date": "2027-12-23", "closed-name": "x", "closed-open": "on"},
            "no public holiday",
        ),
        ({"closed-date": "2027-12-31", "closed-name": "Silvester"}, "already exists"),
    ],
)
def test_a_wrong_closed_day_is_refused(ida, data, problem):
    ClosedDay.objects.create(date=date(2027, 12, 31), name="Silvester")
    answer = ida.post(HOURS, {"form": "closed", **data})
    assert answer.status_code == 200
    assert problem in answer.content.decode()
    assert ClosedDay.objects.count() == 1
    assert not _audit("settings.closed_day_added")


def test_a_day_with_more_spans_than_the_table_holds_is_pointed_out(ida):
    OfficeHours.objects.create(weekday=2, opens=time(17), closes=time(18))
    OfficeHours.objects.create(weekday=2, opens=time(19), closes=time(20))
    page = ida.get(HOURS).content.decode()
    assert "more than two spans" in page


def test_the_categories_page_says_how_many_are_offered(ida):
    offered = Category.objects.filter(active=True).count()
    page = ida.get(CATEGORIES).content.decode()
    assert f"{offered} of at most 10" in page


def test_a_public_holiday_is_opened_from_its_row(ida, settings):
    settings.HOLIDAY_STATE = "BW"
    page = ida.get(HOURS).content.decode()
    assert "Open on Christmas Day" in page
    from django.utils import timezone

    christmas = date(timezone.localdate().year, 12, 25)
    answer = ida.post(
        HOURS,
        {
            "form": "closed",
            "closed-date": christmas.isoformat(),
            "closed-name": "Christmas Day",
            "closed-open": "on",
        },
    )
    assert answer.status_code == 302
    assert ClosedDay.objects.get(date=christmas).open is True
    page = ida.get(HOURS).content.decode()
    assert f"Open on Christmas Day {christmas.year} after all" not in page
    assert f"Open on Christmas Day {christmas.year + 1} after all" in page
