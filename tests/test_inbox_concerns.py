"""A concern's page (also for one that came over Open311 and has no conversation), its
history, and what an agent changes: the status with a note (the citizen is told by whoever
listens to concern_status_changed), the category and the district. Audited, without text."""

from __future__ import annotations

import json

import pytest

from stadtbote.accounts.models import AuditEntry
from stadtbote.inbox import signals
from stadtbote.inbox.models import ConcernEvent, Department, Status
from stadtbote.subscribers.models import District
from tests.inbox_pages import (
    category,
    chat_concern,
    citizen,
    open311_concern,
    stored_photo,
    writes,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(as_, people):
    return as_(people["gerd"])


@pytest.fixture
def concern():
    conversation = writes(citizen(), "Schlagloch").conversation
    return chat_concern(conversation, photo=stored_photo(conversation))


@pytest.fixture
def told():
    """What the notifier would hear."""
    heard: list[dict] = []

    def listen(sender, **kwargs):
        heard.append(kwargs)

    signals.concern_status_changed.connect(listen, weak=False)
    yield heard
    signals.concern_status_changed.disconnect(listen)


def test_the_page_by_reference_or_id_shows_photo_history_and_conversation(agent, concern):
    for key in (concern.reference, concern.reference.lower(), str(concern.pk)):
        page = agent.get(f"/posteingang/meldungen/{key}/").text
        assert f"Meldung {concern.reference}" in page
        assert f'src="/posteingang/medien/{concern.photo_id}/"' in page
        assert f'href="/posteingang/{concern.conversation_id}/"' in page
        assert "Verlauf" in page and "die Bürgerin oder der Bürger" in page


def test_an_open311_concern_has_a_page_without_a_conversation(agent):
    concern = open311_concern()
    response = agent.get(f"/posteingang/meldungen/{concern.reference}/")
    assert response.status_code == 200
    assert "Foto beim meldenden System" in response.text
    assert "das meldende System" in response.text
    assert (
        agent.post(
            f"/posteingang/meldungen/{concern.reference}/status/",
            {"status": "resolved", "note": "Repariert", "back": "conversation"},
        )["Location"]
        == f"/posteingang/meldungen/{concern.reference}/"
    )
    concern.refresh_from_db()
    assert concern.status == Status.RESOLVED


def test_resolving_records_notifies_and_audits_once(agent, people, concern, told):
    url = f"/posteingang/meldungen/{concern.reference}/status/"
    response = agent.post(url, {"status": "resolved", "note": "Loch ist geflickt."})
    assert response.status_code == 302
    concern.refresh_from_db()
    assert concern.status == Status.RESOLVED and concern.resolved_at is not None
    assert concern.status_note == "Loch ist geflickt."
    event = ConcernEvent.objects.filter(concern=concern).last()
    assert event.status == Status.RESOLVED and event.author == people["gerd"]
    assert [(t["status"], t["note"], t["by"]) for t in told] == [
        (Status.RESOLVED, "Loch ist geflickt.", people["gerd"])
    ]
    agent.post(url, {"status": "resolved"})  # a second click: nothing new
    assert len(told) == 1
    [entry] = AuditEntry.objects.filter(action="inbox.concern_status_changed")
    assert entry.details == {"status": "resolved", "with_note": True}
    assert "geflickt" not in json.dumps(entry.details)
    page = agent.get(f"/posteingang/meldungen/{concern.reference}/").text
    assert "Loch ist geflickt." in page and "gerd" in page


def test_from_the_conversation_page_it_goes_back_there(agent, concern):
    response = agent.post(
        f"/posteingang/meldungen/{concern.reference}/status/",
        {"status": "in_progress", "back": "conversation"},
    )
    assert response["Location"] == f"/posteingang/{concern.conversation_id}/"


@pytest.mark.parametrize(
    "data",
    [
        {"status": "done"},
        {},
        {"status": "resolved", "note": "x" * 501},
    ],
)
def test_a_wrong_status_change_is_refused(agent, concern, told, data):
    response = agent.post(f"/posteingang/meldungen/{concern.reference}/status/", data)
    assert response.status_code == 400
    concern.refresh_from_db()
    assert concern.status == Status.NEW and told == []


def test_category_and_district_are_corrected(agent, concern):
    lights = category("Beleuchtung")
    lights.department = Department.objects.create(name="Stadtwerke-Test")
    lights.save()
    nord = District.objects.create(name="Nord-Test", slug="nord-test")
    url = f"/posteingang/meldungen/{concern.reference}/einordnen/"
    data = {"category": str(lights.pk), "district": str(nord.pk)}
    assert agent.post(url, data).status_code == 302
    concern.refresh_from_db()
    assert (concern.category, concern.district) == (lights, nord)
    assert concern.department == lights.department  # followed the category
    agent.post(url, data)
    [entry] = AuditEntry.objects.filter(action="inbox.concern_classified")
    assert entry.details["after"] == {"category": lights.pk, "district": nord.pk}


@pytest.mark.parametrize(
    "data",
    [{"category": "999999"}, {"category": ""}, {"category": "abc"}, {"district": "1"}],
)
def test_a_wrong_classification_is_refused(agent, concern, data):
    before = concern.category_id
    response = agent.post(f"/posteingang/meldungen/{concern.reference}/einordnen/", data)
    assert response.status_code == 400
    concern.refresh_from_db()
    assert concern.category_id == before
    assert not AuditEntry.objects.filter(action="inbox.concern_classified").exists()


def test_an_answer_about_the_concern_is_its_first_answer(agent, concern):
    assert concern.first_answer_at is None
    agent.post(
        f"/posteingang/{concern.conversation_id}/antworten/",
        {"text": "Wir schauen es uns an.", "concern": str(concern.pk)},
    )
    concern.refresh_from_db()
    assert concern.first_answer_at is not None
    assert concern.messages.filter(text="Wir schauen es uns an.").exists()


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "ftp://x.example/a"])
def test_a_photo_address_that_is_no_web_address_is_not_a_link(agent, url):
    from stadtbote.inbox.models import Concern

    concern = open311_concern()
    Concern.objects.filter(pk=concern.pk).update(media_url=url)
    page = agent.get(f"/posteingang/meldungen/{concern.reference}/").text
    assert url not in page and "Foto beim meldenden System" not in page
