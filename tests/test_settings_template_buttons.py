"""Templates with quick-reply buttons on the settings page: added, checked (at most ten
buttons of at most 25 characters, each its own), registered with Meta with their buttons,
changed only before Meta has them, shown in the list; only for administrators."""

from __future__ import annotations

import pytest

from stadtbote.accounts.models import AuditEntry
from stadtbote.broadcasts.models import Template
from tests.helpers import emulator_server

pytestmark = pytest.mark.django_db

URL = "/redaktion/einstellungen/vorlagen/"


def adding(**changes: str) -> dict[str, str]:
    data = {
        "form": "add",
        "new-name": "umfrage",
        "new-language": "de",
        "new-category": "MARKETING",
        "new-body": "Die Stadt fragt: {{1}}",
        "new-buttons": "Abstimmen",
    }
    data.update(changes)
    return data


def test_a_template_with_buttons_is_added_and_registered_with_meta(as_, people):
    client = as_(people["ida"])
    with emulator_server() as emulator:
        response = client.post(URL, adding(**{"new-buttons": "Ja\r\n\r\n  Nein \r\nEgal"}))
        remote = emulator.templates.find("umfrage", "de")
    assert response.status_code == 302
    template = Template.objects.get()
    assert template.buttons == ["Ja", "Nein", "Egal"]
    assert template.status == Template.Status.APPROVED and template.meta_id
    assert [b.text for b in remote.buttons] == ["Ja", "Nein", "Egal"]
    page = client.get(URL).content.decode()
    assert '<ul class="plain"><li>Ja</li><li>Nein</li><li>Egal</li></ul>' in page
    actions = list(AuditEntry.objects.order_by("pk").values_list("action", flat=True))
    assert actions[-2:] == ["template.created", "template.submitted"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"new-buttons": "\n".join(f"B{n}" for n in range(11))}, "höchstens 10"),
        ({"new-buttons": "x" * 26}, "höchstens 25 Zeichen"),
        ({"new-buttons": "Ja\nja"}, "eigenen Text"),
        ({"new-name": "Umfrage Neu"}, "Kleinbuchstaben"),
        ({"new-name": ""}, "zwingend erforderlich"),
        ({"new-body": "{{3}}"}, "{{1}}"),
        ({"new-body": "x" * 1025}, "höchstens 1024 Zeichen"),
        ({"new-language": "fr"}, "gültige Auswahl"),
        ({"new-category": "SPAM"}, "gültige Auswahl"),
    ],
)
def test_wrong_input_is_refused_and_nothing_is_added(as_, people, changes, message):
    response = as_(people["ida"]).post(URL, adding(**changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Template.objects.exists()


def test_a_second_template_of_the_same_name_and_language_is_refused(as_, people):
    Template.objects.create(name="umfrage", body="{{1}}")
    response = as_(people["ida"]).post(URL, adding())
    assert "gibt es in dieser Sprache schon" in response.content.decode()
    assert Template.objects.count() == 1


def test_when_meta_cannot_be_reached_it_is_kept_and_submitted_later(as_, people):
    client = as_(people["ida"])
    answer = client.post(URL, adding(), follow=True).content.decode()
    assert "Gespeichert, aber Meta nicht vorgelegt" in answer and "test-token" not in answer
    template = Template.objects.get()
    assert template.status == Template.Status.DRAFT
    page_url = f"{URL}{template.pk}/"
    changed = client.post(
        page_url,
        {"form": "save", "category": "UTILITY", "body": "Frage: {{1}}", "buttons": "Los"},
    )
    assert changed.status_code == 302
    template.refresh_from_db()
    assert (template.buttons, template.category, template.body) == (
        ["Los"],
        "UTILITY",
        "Frage: {{1}}",
    )
    with emulator_server() as emulator:
        client.post(page_url, {"form": "submit"})
        assert [b.text for b in emulator.templates.find("umfrage", "de").buttons] == ["Los"]
    template.refresh_from_db()
    assert template.status == Template.Status.APPROVED


def test_a_template_meta_has_is_not_changed(as_, people):
    template = Template.objects.create(
        name="umfrage", body="{{1}}", buttons=["Abstimmen"], status="APPROVED"
    )
    client = as_(people["ida"])
    page = client.get(f"{URL}{template.pk}/").content.decode()
    assert 'name="buttons"' not in page and "Abstimmen" in page
    client.post(
        f"{URL}{template.pk}/",
        {"form": "save", "category": "MARKETING", "body": "{{1}}", "buttons": "Neu"},
    )
    client.post(f"{URL}{template.pk}/", {"form": "submit"})
    template.refresh_from_db()
    assert template.buttons == ["Abstimmen"] and template.status == "APPROVED"
    assert not AuditEntry.objects.filter(action__startswith="template.").exists()
    assert client.post(f"{URL}{template.pk}/", {"form": "other"}).status_code == 404
    assert client.get(f"{URL}99999/").status_code == 404


@pytest.mark.parametrize("name", ["erika", "paula", "gerd", "vera", "dora"])
def test_who_is_not_an_administrator_cannot_add_or_change_templates(as_, people, name):
    template = Template.objects.create(name="entwurf", body="{{1}}")
    client = as_(people[name])
    assert client.post(URL, adding()).status_code == 403
    assert client.get(f"{URL}{template.pk}/").status_code == 403
    for data in (
        {"form": "save", "category": "MARKETING", "body": "{{1}}", "buttons": "Neu"},
        {"form": "submit"},
    ):
        assert client.post(f"{URL}{template.pk}/", data).status_code == 403
    assert list(Template.objects.values_list("name", "buttons")) == [("entwurf", [])]
