"""Who may open the inbox: agents read and work on conversations; editors, approvers,
viewers, administrators and the data protection officer read no citizen's messages; a
stranger is sent to the login. Every change needs a POST with the CSRF token."""

from __future__ import annotations

import pytest
from django.test import Client

from stadtbote.inbox.models import Message
from tests.helpers import staff_login
from tests.inbox_pages import chat_concern, citizen, stored_photo, writes

pytestmark = pytest.mark.django_db


@pytest.fixture
def case():
    subscriber = citizen()
    message = writes(subscriber, "Die Ampel ist kaputt")
    conversation = message.conversation
    photo = stored_photo(conversation)
    concern = chat_concern(conversation, photo=photo)
    return conversation, concern, photo


def _pages(case) -> list[str]:
    conversation, concern, photo = case
    return [
        "/posteingang/",
        f"/posteingang/{conversation.pk}/",
        "/posteingang/meldungen/",
        f"/posteingang/meldungen/{concern.reference}/",
        f"/posteingang/meldungen/{concern.pk}/",
        f"/posteingang/medien/{photo.pk}/",
    ]


def _forms(case) -> list[tuple[str, dict[str, str]]]:
    conversation, concern, _ = case
    base = f"/posteingang/{conversation.pk}/"
    return [
        (f"{base}antworten/", {"text": "Danke, wir kümmern uns."}),
        (f"{base}notiz/", {"text": "Bauhof informiert"}),
        (f"{base}status/", {"status": "waiting"}),
        (f"{base}zuweisen/", {"department": "", "assignee": ""}),
        (f"/posteingang/meldungen/{concern.reference}/status/", {"status": "resolved"}),
        (
            f"/posteingang/meldungen/{concern.reference}/einordnen/",
            {"category": str(concern.category_id)},
        ),
    ]


def test_an_agent_opens_every_page(as_, people, case):
    client = as_(people["gerd"])
    for path in _pages(case):
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize("name", ["ida", "erika", "paula", "vera", "dora"])
def test_no_other_role_reads_the_inbox(as_, people, case, name):
    client = as_(people[name])
    for path in _pages(case):
        assert client.get(path).status_code == 403, (name, path)


@pytest.mark.parametrize("name", ["ida", "erika", "paula", "vera", "dora"])
def test_no_other_role_changes_anything(as_, people, case, name):
    client = as_(people[name])
    conversation, concern, _ = case
    for path, data in _forms(case):
        assert client.post(path, data).status_code == 403, (name, path)
    conversation.refresh_from_db()
    concern.refresh_from_db()
    assert conversation.status == "new" and concern.status == "new"
    assert not conversation.messages.exclude(direction=Message.Direction.IN).exists()


def test_a_stranger_is_sent_to_the_login(client, case):
    for path in _pages(case):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/staff/login/"), path
    for path, data in _forms(case):
        response = client.post(path, data)
        assert response.status_code == 302 and "/staff/login/" in response["Location"]


def test_changes_need_a_post(as_, people, case):
    client = as_(people["gerd"])
    for path, _ in _forms(case):
        assert client.get(path).status_code == 405, path


def test_changes_need_the_csrf_token(people, case):
    client = Client(enforce_csrf_checks=True)
    staff_login(client, people["gerd"])
    conversation = case[0]
    for path, data in _forms(case):
        assert client.post(path, data).status_code == 403, path
    conversation.refresh_from_db()
    assert conversation.status == "new"
    assert not conversation.messages.exclude(direction=Message.Direction.IN).exists()


def test_the_nav_offers_the_inbox_to_agents_only(as_, people):
    assert 'href="/posteingang/"' in as_(people["gerd"]).get("/redaktion/").text
    assert 'href="/posteingang/"' not in as_(people["erika"]).get("/redaktion/").text


def test_a_foreign_or_unknown_id_is_not_found(as_, people, case):
    client = as_(people["gerd"])
    for path in [
        "/posteingang/999999/",
        "/posteingang/meldungen/M-1999-99999/",
        "/posteingang/meldungen/999999/",
        f"/posteingang/meldungen/{'x' * 300}/",
        "/posteingang/meldungen/M-2026%00/",
        "/posteingang/medien/999999/",
        "/posteingang/99999999999999999999999/",
    ]:
        assert client.get(path).status_code == 404, path
    assert client.post("/posteingang/999999/antworten/", {"text": "Hallo"}).status_code == 404
    assert client.get("/posteingang/abc/").status_code == 404
