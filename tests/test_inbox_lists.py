"""The inbox's lists: conversations by latest activity with what waits too long, concerns;
filters by status, department, assignee, category, district and overdue; search in messages
and concerns in any case; pages of 50; filters that make no sense are said and ignored.
Runs on PostgreSQL too (the suite's second pass), where search folds case differently."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from stadtbote.inbox import queries
from stadtbote.inbox.models import Concern, Conversation, Department, Status
from stadtbote.subscribers.models import District
from tests.helpers import ALICE, BOB
from tests.inbox_pages import (
    category,
    chat_concern,
    citizen,
    hours_ago,
    open311_concern,
    writes,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(as_, people):
    return as_(people["gerd"])


def _ids(response) -> list[int]:
    return [c.pk for c in response.context["page"].object_list]


@pytest.fixture
def three(people):
    """Alice waits for 30 hours (overdue), Bob wrote an hour ago, Carla's is resolved."""
    alice = writes(citizen(ALICE), "Straßenlaterne ÜBER dem Spielplatz flackert", hours_ago(30))
    bob = writes(citizen(BOB), "Wann ist der Wertstoffhof offen?", hours_ago(1))
    carla = writes(citizen("491700000003"), "Danke!", hours_ago(50))
    Conversation.objects.filter(pk=carla.conversation_id).update(
        status=Status.RESOLVED, awaiting_since=None
    )
    department = Department.objects.create(name="Tiefbau-Test")
    Conversation.objects.filter(pk=alice.conversation_id).update(
        department=department, assignee=people["gerd"]
    )
    concern = chat_concern(
        alice.conversation, description="Laterne Nr. 17", category=category("Beleuchtung")
    )
    return {
        "alice": alice.conversation,
        "bob": bob.conversation,
        "carla": carla.conversation,
        "department": department,
        "concern": concern,
    }


def test_newest_activity_first_with_overdue_status_and_concerns(agent, three):
    response = agent.get("/posteingang/")
    assert _ids(response) == [three["bob"].pk, three["alice"].pk, three["carla"].pk]
    page = response.text
    assert page.count('class="overdue"') == 1  # Alice only: Carla's is resolved
    assert three["concern"].reference in page
    assert "Tiefbau-Test" in page and "gerd" in page
    assert f"Bürger·in #{three['alice'].pk}" in page
    assert "Wertstoffhof" in page  # the preview of the last message
    assert ALICE not in page and BOB not in page


def test_an_answer_counts_as_activity(agent, people, three):
    from stadtbote.inbox import work

    work.answer(three["carla"], "Gern geschehen.", by=people["gerd"])
    assert _ids(agent.get("/posteingang/"))[0] == three["carla"].pk


def test_notes_are_not_the_preview(agent, people, three):
    from stadtbote.inbox import work

    work.note(three["bob"], "Geheime Notiz", by=people["gerd"])
    page = agent.get("/posteingang/").text
    assert "Geheime Notiz" not in page and "Wertstoffhof" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=open", ["bob", "alice"]),
        ("status=resolved", ["carla"]),
        ("status=new", ["bob", "alice"]),
        ("overdue=on", ["alice"]),
        ("assignee=me", ["alice"]),
        ("assignee=nobody", ["bob", "carla"]),
        ("department={department}", ["alice"]),
        ("category={category}", ["alice"]),
        ("q=wertstoffhof", ["bob"]),
        ("q=WERTSTOFFHOF", ["bob"]),
        ("q=über", ["alice"]),  # stored as ÜBER
        ("q=laterne+17", ["alice"]),  # every word, in messages or concerns
        ("q={reference}", ["alice"]),
        ("q=nirgends", []),
        ("status=open&assignee=nobody", ["bob"]),
    ],
)
def test_filters_and_search(agent, three, query, expected):
    query = query.format(
        department=three["department"].pk,
        category=three["concern"].category_id,
        reference=three["concern"].reference.lower(),
    )
    response = agent.get(f"/posteingang/?{query}")
    assert response.status_code == 200
    assert _ids(response) == [three[name].pk for name in expected]


def test_filter_by_a_person(agent, people, three):
    response = agent.get(f"/posteingang/?assignee={people['gerd'].pk}")
    assert _ids(response) == [three["alice"].pk]


@pytest.mark.parametrize(
    "query",
    [
        "status=geschlossen",
        "department=999999",
        "department=abc",
        "assignee=999999",
        "assignee=-1",
        "category=%00",
        "overdue=vielleicht",
        "seite=abc",
        "seite=999999",
        "seite=99999999999999999999999999",
        "status=new&status=resolved",
        "q=" + "x" * 5000,
        "q=%00",
    ],
)
def test_a_filter_that_makes_no_sense_is_ignored_not_a_crash(agent, three, query):
    response = agent.get(f"/posteingang/?{query}")
    assert response.status_code == 200
    if query.startswith(("status=g", "department", "assignee", "category")):
        assert "nicht verstanden" in response.text
        assert len(_ids(response)) == 3


def test_the_search_is_capped_at_100_characters(agent, three):
    response = agent.get("/posteingang/?q=" + "wertstoffhof " * 8 + "nirgends")
    assert _ids(response) == [three["bob"].pk]  # the tail beyond 100 is not searched


def test_pages_of_fifty(agent):
    subscribers = [citizen(f"4917000{n:05d}") for n in range(52)]
    for n, subscriber in enumerate(subscribers):
        writes(subscriber, f"Nachricht {n}", timezone.now() - timedelta(minutes=n))
    first = agent.get("/posteingang/?status=open")
    assert len(_ids(first)) == 50
    assert "status=open&amp;seite=2" in first.text
    second = agent.get("/posteingang/?status=open&seite=2")
    assert len(_ids(second)) == 2


def test_overdue_follows_the_setting(agent, three, settings):
    settings.INBOX_RESPONSE_HOURS = 0
    assert set(_ids(agent.get("/posteingang/?overdue=on"))) == {
        three["alice"].pk,
        three["bob"].pk,
    }
    settings.INBOX_RESPONSE_HOURS = 100
    assert _ids(agent.get("/posteingang/?overdue=on")) == []


# Concerns


@pytest.fixture
def concerns(three):
    nord = District.objects.create(name="Nord-Test", slug="nord-test")
    department = three["department"]
    old = chat_concern(
        three["bob"],
        description="Müll im Park",
        at=hours_ago(40),
        district=nord,
        category=category("Müll"),
    )
    Concern.objects.filter(pk=old.pk).update(department=department)
    done = open311_concern(description="Ampel defekt")
    Concern.objects.filter(pk=done.pk).update(status=Status.RESOLVED)
    return {"old": old, "done": done, "lamp": three["concern"], "nord": nord}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["done", "lamp", "old"]),
        ("status=open", ["lamp", "old"]),
        ("status=resolved", ["done"]),
        ("overdue=on", ["old"]),
        ("district={nord}", ["old"]),
        ("category={muell}", ["old"]),
        ("department={department}", ["old"]),
        ("q=AMPEL", ["done"]),
        ("q=müll", ["old"]),
        ("district=abc", ["done", "lamp", "old"]),
    ],
)
def test_the_concern_list_filters(agent, three, concerns, query, expected):
    query = query.format(
        nord=concerns["nord"].pk,
        muell=concerns["old"].category_id,
        department=three["department"].pk,
    )
    response = agent.get(f"/posteingang/meldungen/?{query}")
    assert response.status_code == 200
    assert [c.pk for c in response.context["page"].object_list] == [
        concerns[name].pk for name in expected
    ]


def test_an_answered_concern_is_not_overdue(people, concerns):
    from stadtbote.inbox import work

    assert queries.concern_is_overdue(concerns["old"])
    work.set_concern_status(concerns["old"], Status.IN_PROGRESS, by=people["gerd"])
    concerns["old"].refresh_from_db()
    assert not queries.concern_is_overdue(concerns["old"])


def test_the_list_asks_the_database_the_same_few_times_for_many_rows(
    agent, django_assert_max_num_queries
):
    for n in range(30):
        conversation = writes(citizen(f"4917100{n:05d}"), f"Nachricht {n}").conversation
        chat_concern(conversation)
    # Session, user, permissions, the count, the page, its concerns, the filter choices.
    with django_assert_max_num_queries(15):
        response = agent.get("/posteingang/")
    assert len(_ids(response)) == 30
