"""What the data protection officer does: find by number, show consent, export, erase."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from stadtbote.subscribers import actions as subscribers
from stadtbote.subscribers.models import ConsentEvent, Subscriber
from tests.helpers import ALICE, BOB, active_subscriber, staff_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def dpo_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("dpo", "dpo@example.org", "x" * 16)
    staff_login(client, user)
    return client


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_the_consent_of_a_number_is_shown_from_the_command_line():
    active_subscriber(ALICE)
    history = json.loads(run("consent_history", "+49 170 1234567"))
    assert [e["action"] for e in history] == ["requested", "confirmed"]
    assert all(e["notice_version"] for e in history)


def test_the_consent_history_outlives_an_erasure():
    subscriber = active_subscriber(ALICE)
    subscribers.erase(subscriber, wording="x", channel="staff")
    history = json.loads(run("consent_history", "0049 170 1234567"))
    assert [e["action"] for e in history] == ["requested", "confirmed", "erased"]


def test_an_export_holds_the_number_choices_and_history():
    active_subscriber(ALICE)
    data = json.loads(run("export_subscriber", "+491701234567"))
    assert data["subscriber"]["phone_number"] == "+491701234567"
    assert data["subscriber"]["status"] == "active"
    assert len(data["consent_history"]) == 2
    assert "posts_received" in data
    assert "answers_sent" in data
    assert data["poll_votes"] == []


def test_erasing_from_the_command_line_removes_the_subscriber():
    active_subscriber(ALICE)
    active_subscriber(BOB)
    run("erase_subscriber", "+49 170 1234567", "--yes")
    assert subscribers.find(ALICE) is None
    assert subscribers.find(BOB) is not None


@pytest.mark.parametrize("command", ["export_subscriber", "erase_subscriber"])
def test_the_commands_say_clearly_when_there_is_no_such_subscriber(command):
    with pytest.raises(CommandError, match="No subscriber"):
        run(command, "+49 170 0000000", "--yes") if command == "erase_subscriber" else run(
            command, "+49 170 0000000"
        )


@pytest.mark.parametrize("command", ["consent_history", "export_subscriber"])
def test_the_commands_refuse_what_is_not_a_number(command):
    with pytest.raises(CommandError, match="not a phone number"):
        run(command, "hello")


def test_the_admin_finds_a_subscriber_only_by_the_full_number(dpo_client):
    subscriber = active_subscriber(ALICE)
    active_subscriber(BOB)
    page = dpo_client.get("/admin/subscribers/subscriber/", {"q": "+49 170 1234567"})
    assert page.status_code == 200
    assert list(page.context["cl"].queryset) == [subscriber]
    page = dpo_client.get("/admin/subscribers/subscriber/", {"q": "1234567"})
    assert list(page.context["cl"].queryset) == []
    assert ALICE not in dpo_client.get("/admin/subscribers/subscriber/").content.decode()


def test_the_admin_shows_the_ledger_of_a_number(dpo_client):
    active_subscriber(ALICE)
    active_subscriber(BOB)
    page = dpo_client.get("/admin/subscribers/consentevent/", {"q": "+491701234567"})
    assert page.context["cl"].result_count == 2


def test_the_admin_exports_and_erases(dpo_client):
    subscriber = active_subscriber(ALICE)
    response = dpo_client.post(
        "/admin/subscribers/subscriber/",
        {"action": "export_json", "_selected_action": [subscriber.pk]},
    )
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)[0]["subscriber"]["phone_number"] == "+491701234567"
    dpo_client.post(
        "/admin/subscribers/subscriber/", {"action": "erase", "_selected_action": [subscriber.pk]}
    )
    assert not Subscriber.objects.exists()
    assert ConsentEvent.objects.filter(action="erased").count() == 1


def test_nobody_can_change_the_ledger_in_the_admin(dpo_client):
    active_subscriber(ALICE)
    event = ConsentEvent.objects.first()
    response = dpo_client.post(
        f"/admin/subscribers/consentevent/{event.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 403
    assert ConsentEvent.objects.filter(pk=event.pk).exists()
