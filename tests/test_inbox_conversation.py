"""A conversation's page and what an agent does there: reads the messages (photo, place,
notes, held answers), answers inside and outside the 24-hour window, notes, assigns, changes
the status; every change is in the audit log without the message's text."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from stadtbote.accounts.models import AuditEntry
from stadtbote.channels.models import SendState
from stadtbote.dialogue.models import Reply
from stadtbote.inbox.models import CannedReply, Conversation, Department, Message, Status
from tests.helpers import ALICE
from tests.inbox_pages import (
    chat_concern,
    citizen,
    reply_waiting_template,
    sends_place,
    stored_photo,
    writes,
)

pytestmark = pytest.mark.django_db

MARBURG = "50.78,8.72,50.84,8.81"


@pytest.fixture
def agent(as_, people):
    return as_(people["gerd"])


@pytest.fixture
def conversation() -> Conversation:
    return writes(citizen(), "Vor dem Rathaus ist ein tiefes Schlagloch.").conversation


def _audit(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def _no_text_in_audit(*texts: str) -> None:
    dumped = json.dumps([e.details for e in AuditEntry.objects.all()], ensure_ascii=False)
    labels = " ".join(AuditEntry.objects.values_list("target_label", flat=True))
    for text in texts:
        assert text not in dumped and text not in labels
    assert ALICE not in dumped and ALICE not in labels


# Reading


@override_settings(CITY_BOUNDS=MARBURG)
def test_the_page_shows_messages_photo_place_and_concern_without_the_number(agent, conversation):
    photo = stored_photo(conversation, caption="Das Loch")
    place = sends_place(conversation.subscriber, 50.8098, 8.7707)
    concern = chat_concern(
        conversation, photo=photo, latitude=place.latitude, longitude=place.longitude
    )
    page = agent.get(f"/posteingang/{conversation.pk}/").text
    assert f"Bürger·in #{conversation.pk}" in page
    assert "tiefes Schlagloch" in page
    assert f'src="/posteingang/medien/{photo.pk}/"' in page
    assert "50.80980, 8.77070" in page or "50,80980, 8,77070" in page
    assert page.count('<svg class="citymap"') == 2  # the message's place and the concern's
    assert "https://www.openstreetmap.org/?mlat=50.809800&amp;mlon=8.770700#map=18/" in page
    assert concern.reference in page and "Straßenschäden" in page
    assert ALICE not in page and "IMG_2026_Max_Mustermann" not in page
    assert "Telefonnummer" not in page  # no button to reveal it either


def test_a_place_outside_the_city_or_without_bounds_has_no_pin_but_coordinates(agent, conversation):
    sends_place(conversation.subscriber, 48.1, 11.5)
    with override_settings(CITY_BOUNDS=MARBURG):
        page = agent.get(f"/posteingang/{conversation.pk}/").text
    assert '<svg class="citymap"' not in page and "openstreetmap.org" in page
    with override_settings(CITY_BOUNDS=""):
        page = agent.get(f"/posteingang/{conversation.pk}/").text
    assert '<svg class="citymap"' not in page and "openstreetmap.org" in page


def test_notes_answers_and_automatic_answers_look_different(agent, people, conversation):
    Message.objects.create(
        conversation=conversation,
        direction=Message.Direction.NOTE,
        text="Bauhof ist informiert",
        author=people["gerd"],
        created_at=timezone.now(),
    )
    Message.objects.create(
        conversation=conversation,
        direction=Message.Direction.AUTO,
        text="Danke für Ihre Nachricht",
        created_at=timezone.now(),
    )
    page = agent.get(f"/posteingang/{conversation.pk}/").text
    for kind in ("msg-in", "msg-note", "msg-auto"):
        assert f"msg {kind}" in page
    assert "Interne Notiz" in page and "Automatische Antwort" in page


def test_the_delivery_state_of_an_answer_is_shown(agent, conversation):
    agent.post(f"/posteingang/{conversation.pk}/antworten/", {"text": "Wir kommen."})
    Reply.objects.update(state=SendState.READ)
    page = agent.get(f"/posteingang/{conversation.pk}/").text
    assert '<span class="badge state">gelesen</span>' in page


def test_the_phone_number_is_revealed_only_on_request_and_recorded(
    client, django_user_model, conversation
):
    from stadtbote.accounts.roles import Role
    from tests.helpers import staff_login, staff_with_roles

    both = staff_with_roles(django_user_model, hanna=Role.AGENT)["hanna"]
    from stadtbote.accounts import roles

    roles.assign(both, Role.AGENT, Role.DATA_PROTECTION_OFFICER)
    both = django_user_model.objects.get(pk=both.pk)
    staff_login(client, both)
    page = client.get(f"/posteingang/{conversation.pk}/").text
    assert ALICE not in page and "/telefonnummer/" in page
    assert _audit("inbox.phone_number_viewed") == []
    response = client.post(f"/posteingang/{conversation.pk}/telefonnummer/")
    assert ALICE in response.text
    assert response["Cache-Control"] == "private, no-store"
    [entry] = _audit("inbox.phone_number_viewed")
    assert entry.actor_name == "hanna" and entry.target_id == str(conversation.pk)
    _no_text_in_audit()


def test_an_agent_may_not_reveal_the_number(agent, conversation):
    assert agent.post(f"/posteingang/{conversation.pk}/telefonnummer/").status_code == 403
    assert _audit("inbox.phone_number_viewed") == []


# Answering


def test_an_answer_inside_the_window_is_queued_and_recorded(agent, conversation):
    response = agent.post(
        f"/posteingang/{conversation.pk}/antworten/", {"text": "Danke, der Bauhof kommt."}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/posteingang/{conversation.pk}/"
    message = conversation.messages.get(direction=Message.Direction.OUT)
    assert message.reply is not None and not message.held
    assert message.reply.content["text"] == "Danke, der Bauhof kommt."
    conversation.refresh_from_db()
    assert conversation.awaiting_since is None and conversation.status == Status.IN_PROGRESS
    [entry] = _audit("inbox.answered")
    assert entry.details["message"] == message.pk and entry.details["held"] is False
    _no_text_in_audit("Danke, der Bauhof kommt.", "Schlagloch")
    page = agent.get(response["Location"]).text
    assert "Die Antwort ist unterwegs." in page


def test_an_answer_outside_the_window_is_held_behind_the_template(agent, people):
    subscriber = citizen(wrote_just_now=False)
    conversation = writes(subscriber, "Wann wird das repariert?").conversation
    reply_waiting_template()
    for text in ("Nächste Woche.", "Und danke für den Hinweis."):
        response = agent.post(f"/posteingang/{conversation.pk}/antworten/", {"text": text})
        assert response.status_code == 302
    held = list(conversation.messages.filter(direction=Message.Direction.OUT))
    assert [m.held for m in held] == [True, True] and all(m.reply is None for m in held)
    [invitation] = Reply.objects.all()  # one template, however many answers wait
    assert invitation.content["template"]["name"] == "stadt_antwort"
    page = agent.get(f"/posteingang/{conversation.pk}/").text
    assert page.count("wartet auf den Bürger") >= 2
    assert [e.details["held"] for e in _audit("inbox.answered")] == [True, True]


def test_without_the_template_the_page_says_why_and_nothing_is_sent(agent):
    conversation = writes(citizen(wrote_just_now=False), "Hallo?").conversation
    response = agent.post(f"/posteingang/{conversation.pk}/antworten/", {"text": "Hallo!"})
    assert response.status_code == 400
    assert "nicht freigegeben" in response.text and "Hallo!" in response.text
    assert not conversation.messages.filter(direction=Message.Direction.OUT).exists()
    assert Reply.objects.count() == 0 and _audit("inbox.answered") == []


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"text": ""}, "Dieses Feld ist zwingend erforderlich."),
        ({"text": "   "}, "Dieses Feld ist zwingend erforderlich."),
        ({"text": "x" * 4097}, "4096"),
        ({}, "Dieses Feld ist zwingend erforderlich."),
        ({"text": "Hallo", "concern": "999999"}, "Bitte eine gültige Auswahl treffen"),
        ({"text": "Hallo", "concern": "abc"}, "Bitte eine gültige Auswahl treffen"),
        ({"text": "Hallo\x00"}, "Nullzeichen"),
    ],
)
def test_a_wrong_answer_is_refused_and_nothing_is_sent(agent, conversation, data, problem):
    response = agent.post(f"/posteingang/{conversation.pk}/antworten/", data)
    assert response.status_code == 400
    assert problem in response.text
    assert not conversation.messages.filter(direction=Message.Direction.OUT).exists()
    assert Reply.objects.count() == 0


def test_an_answer_about_another_conversations_concern_is_refused(agent, conversation):
    other = writes(citizen("491705555555"), "Anderes").conversation
    foreign = chat_concern(other)
    response = agent.post(
        f"/posteingang/{conversation.pk}/antworten/",
        {"text": "Hallo", "concern": str(foreign.pk)},
    )
    assert response.status_code == 400
    assert Reply.objects.count() == 0


def test_the_same_answer_twice_at_once_goes_out_once(agent, conversation):
    for _ in range(2):
        agent.post(f"/posteingang/{conversation.pk}/antworten/", {"text": "Wir kommen."})
    assert conversation.messages.filter(direction=Message.Direction.OUT).count() == 1
    assert Reply.objects.count() == 1 and len(_audit("inbox.answered")) == 1
    page = agent.get(f"/posteingang/{conversation.pk}/").text
    assert "nicht noch einmal gesendet" in page


def test_a_canned_reply_fills_the_answer_without_javascript(agent, conversation):
    department = Department.objects.create(name="Bauhof-Test")
    canned = CannedReply.objects.create(title="Danke", text="Danke, wir kümmern uns darum.")
    other = CannedReply.objects.create(
        title="Nur Bauhof", text="Bauhof sagt danke.", department=department
    )
    page = agent.get(f"/posteingang/{conversation.pk}/?canned={canned.pk}").text
    assert "Danke, wir kümmern uns darum.</textarea>" in page
    assert "Nur Bauhof" in page  # no department yet: every canned reply is offered
    Conversation.objects.filter(pk=conversation.pk).update(
        department=Department.objects.create(name="Ordnungsamt-Test")
    )
    page = agent.get(f"/posteingang/{conversation.pk}/?canned={other.pk}").text
    assert "Nur Bauhof" not in page and "Bauhof sagt danke.</textarea>" not in page
    for wrong in ("abc", "-1", "99999999999999999999999", ""):
        assert agent.get(f"/posteingang/{conversation.pk}/?canned={wrong}").status_code == 200


# Notes, status, assignment


def test_a_note_is_kept_for_staff_only(agent, conversation):
    response = agent.post(f"/posteingang/{conversation.pk}/notiz/", {"text": "Bauhof angerufen"})
    assert response.status_code == 302
    note = conversation.messages.get(direction=Message.Direction.NOTE)
    assert note.text == "Bauhof angerufen" and note.reply is None
    assert Reply.objects.count() == 0
    conversation.refresh_from_db()
    assert conversation.awaiting_since is not None  # a note is no answer
    [entry] = _audit("inbox.noted")
    assert entry.details == {"message": note.pk}
    agent.post(f"/posteingang/{conversation.pk}/notiz/", {"text": "Bauhof angerufen"})
    assert conversation.messages.filter(direction=Message.Direction.NOTE).count() == 1
    for data in ({"text": ""}, {"text": "x" * 5000}, {}):
        assert agent.post(f"/posteingang/{conversation.pk}/notiz/", data).status_code == 400
    _no_text_in_audit("Bauhof angerufen")


def test_the_status_changes_once_and_is_recorded(agent, conversation):
    url = f"/posteingang/{conversation.pk}/status/"
    assert agent.post(url, {"status": "resolved"}).status_code == 302
    conversation.refresh_from_db()
    assert conversation.status == Status.RESOLVED and conversation.resolved_at is not None
    assert conversation.awaiting_since is None
    agent.post(url, {"status": "resolved"})
    [entry] = _audit("inbox.status_changed")
    assert entry.details == {"before": "new", "after": "resolved"}
    for wrong in ({"status": "closed"}, {"status": ""}, {}, {"status": "x" * 1000}):
        assert agent.post(url, wrong).status_code == 400
    conversation.refresh_from_db()
    assert conversation.status == Status.RESOLVED


def test_assignment_to_a_department_and_an_agent(agent, people, conversation):
    department = Department.objects.create(name="Tiefbau-Test")
    url = f"/posteingang/{conversation.pk}/zuweisen/"
    data = {"department": str(department.pk), "assignee": str(people["gerd"].pk)}
    assert agent.post(url, data).status_code == 302
    conversation.refresh_from_db()
    assert conversation.department == department and conversation.assignee == people["gerd"]
    agent.post(url, data)  # the same again: nothing to record
    [entry] = _audit("inbox.assigned")
    assert entry.details == {"department": department.pk, "assignee": people["gerd"].pk}
    assert agent.post(url, {"department": "", "assignee": ""}).status_code == 302
    conversation.refresh_from_db()
    assert conversation.department is None and conversation.assignee is None


@pytest.mark.parametrize(
    "data",
    [
        {"department": "999999", "assignee": ""},
        {"department": "abc", "assignee": ""},
        {"department": "", "assignee": "999999"},
        {"department": "", "assignee": "{editor}"},  # may not work on conversations
    ],
)
def test_a_wrong_assignment_is_refused(agent, people, conversation, data):
    data = {k: v.replace("{editor}", str(people["erika"].pk)) for k, v in data.items()}
    response = agent.post(f"/posteingang/{conversation.pk}/zuweisen/", data)
    assert response.status_code == 400
    conversation.refresh_from_db()
    assert conversation.assignee is None and conversation.department is None
    assert _audit("inbox.assigned") == []


def test_the_page_of_a_conversation_that_waits_too_long_says_overdue(agent, conversation):
    Conversation.objects.filter(pk=conversation.pk).update(
        awaiting_since=timezone.now() - timedelta(hours=30)
    )
    assert "überfällig" in agent.get(f"/posteingang/{conversation.pk}/").text
