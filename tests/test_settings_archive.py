"""The setting "show reaction counts in the public archive": off until an administrator turns it
on in the newsroom, stored in the database, recorded in the audit log with old and new value;
every other role gets 403 and changes nothing."""

from __future__ import annotations

import pytest

from stadtbote.accounts.models import AuditEntry
from stadtbote.public import archive_settings
from stadtbote.public.models import ArchiveSettings

pytestmark = pytest.mark.django_db

URL = "/redaktion/einstellungen/archiv/"


def audited() -> list[dict]:
    return [
        e.details
        for e in AuditEntry.objects.filter(action="settings.archive_changed").order_by("id")
    ]


def test_it_is_off_until_someone_turns_it_on(as_, people):
    assert archive_settings.shows_reactions() is False
    page = as_(people["ida"]).get(URL, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    assert "show reaction counts in the public archive" in html.lower()
    assert 'name="show_reactions"' in html and "checked" not in html
    assert not ArchiveSettings.objects.exists()


def test_an_administrator_turns_it_on_and_off_and_each_change_is_recorded(as_, people):
    client = as_(people["ida"])
    answer = client.post(URL, {"show_reactions": "on"})
    assert answer.status_code == 302 and answer["Location"] == URL
    assert archive_settings.shows_reactions() is True
    assert "checked" in client.get(URL).content.decode()
    client.post(URL, {})  # an unticked box is not sent at all
    assert archive_settings.shows_reactions() is False
    assert audited() == [
        {"changed": {"show_reactions": [False, True]}},
        {"changed": {"show_reactions": [True, False]}},
    ]
    entry = AuditEntry.objects.filter(action="settings.archive_changed").first()
    assert entry.actor_name == "ida" and entry.via == "web"


def test_saving_what_is_in_force_records_nothing(as_, people):
    client = as_(people["ida"])
    client.post(URL, {})
    client.post(URL, {"show_reactions": "on"})
    client.post(URL, {"show_reactions": "on"})
    assert len(audited()) == 1
    assert ArchiveSettings.objects.count() == 1  # one row, ever


@pytest.mark.parametrize("value", ["false", ""])
def test_a_false_looking_value_keeps_it_off(as_, people, value):
    as_(people["ida"]).post(URL, {"show_reactions": value})
    assert archive_settings.shows_reactions() is False
    assert audited() == []


def test_an_oversized_or_odd_post_changes_nothing_it_should_not(as_, people):
    client = as_(people["ida"])
    answer = client.post(URL, {"show_reactions": "on", "other": "x" * 100_000})
    assert answer.status_code == 302
    assert archive_settings.shows_reactions() is True
    assert set(ArchiveSettings.objects.values_list("pk", flat=True)) == {1}


@pytest.mark.parametrize("name", ["erika", "paula", "gerd", "vera", "dora"])
def test_every_other_role_gets_403_and_changes_nothing(as_, people, name):
    client = as_(people[name])
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"show_reactions": "on"}).status_code == 403
    assert archive_settings.shows_reactions() is False
    assert audited() == []
    assert f'href="{URL}"' not in client.get("/redaktion/").content.decode()


def test_a_stranger_is_sent_to_the_login(client):
    answer = client.post(URL, {"show_reactions": "on"})
    assert answer.status_code == 302 and "login" in answer["Location"]
    assert archive_settings.shows_reactions() is False


def test_the_settings_navigation_leads_administrators_to_it(as_, people):
    page = as_(people["ida"]).get("/redaktion/einstellungen/", HTTP_ACCEPT_LANGUAGE="de")
    html = page.content.decode()
    assert f'href="{URL}"' in html and "Öffentliches Archiv" in html


def test_only_one_row_can_exist():
    from django.db import IntegrityError, transaction

    ArchiveSettings.objects.create(pk=1, show_reactions=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        ArchiveSettings.objects.create(pk=2)
