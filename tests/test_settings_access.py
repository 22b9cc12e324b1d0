"""Who may open and change the newsroom's settings: administrators everything; the data
protection officer reads the privacy notice's history; everybody else gets 403 and changes
nothing, and sees no link to pages they may not open."""

from __future__ import annotations

import pytest

from stadtbote.accounts.models import AuditEntry
from stadtbote.broadcasts.models import Price, SendingRules
from stadtbote.public.models import ArchiveSettings, NoticeVersion, PageText
from stadtbote.subscribers.models import District, Topic

pytestmark = pytest.mark.django_db

BASE = "/redaktion/einstellungen/"


@pytest.fixture
def things(db):
    topic = Topic.objects.create(name="Baustellen", slug="baustellen")
    district = District.objects.create(name="Altstadt", slug="altstadt")
    return topic, district


def _attempts(topic, district):
    """Every change the settings pages offer, as (path, form data)."""
    price = Price.objects.order_by("pk").first()
    return [
        (BASE, {}),
        (
            f"{BASE}versand/",
            {
                "quiet_hours_start": "21:00",
                "quiet_hours_end": "07:00",
                "daily_cap": "1",
                "monthly_budget": "5",
            },
        ),
        (f"{BASE}themen/", {"name": "Neu", "slug": "neu"}),
        (f"{BASE}themen/{topic.pk}/", {"name": "Umbenannt", "slug": "baustellen"}),
        (f"{BASE}themen/{topic.pk}/delete/", {}),
        (f"{BASE}themen/{topic.pk}/down/", {}),
        (f"{BASE}stadtteile/", {"name": "Neu", "slug": "neu"}),
        (f"{BASE}stadtteile/{district.pk}/", {"name": "Umbenannt", "slug": "altstadt"}),
        (f"{BASE}stadtteile/{district.pk}/delete/", {}),
        (f"{BASE}preise/", {"form": "amounts", f"price_{price.pk}": "9"}),
        (
            f"{BASE}preise/",
            {
                "form": "country",
                "new-country": "AT",
                "new-marketing": "1",
                "new-utility": "1",
                "new-authentication": "1",
            },
        ),
        (f"{BASE}vorlagen/", {}),
        (
            f"{BASE}datenschutz/",
            {"form": "privacy", "privacy-title": "T", "privacy-body": "B", "privacy-version": "9"},
        ),
        (
            f"{BASE}datenschutz/",
            {"form": "subscribe", "subscribe-title": "T", "subscribe-body": "B"},
        ),
        (f"{BASE}archiv/", {"show_reactions": "on"}),
    ]


def _state():
    return (
        list(Topic.objects.values_list("name", "slug", "position")),
        list(District.objects.values_list("name", "slug", "position")),
        list(Price.objects.values_list("country", "category", "amount")),
        SendingRules.objects.count(),
        PageText.objects.count(),
        NoticeVersion.objects.count(),
        ArchiveSettings.objects.count(),
        AuditEntry.objects.filter(action__startswith="settings.").count(),
    )


@pytest.mark.parametrize("name", ["erika", "paula", "gerd", "vera", "dora"])
def test_who_is_not_an_administrator_gets_403_and_changes_nothing(as_, people, things, name):
    client = as_(people[name])
    before = _state()
    for path, data in _attempts(*things):
        if name == "dora" and path.endswith("datenschutz/"):
            continue  # she reads it: tested below
        if not path.endswith(("delete/", "down/")):
            assert client.get(path).status_code == 403, path
        assert client.post(path, data).status_code == 403, path
    assert _state() == before


def test_the_data_protection_officer_reads_the_history_but_publishes_nothing(as_, people, things):
    client = as_(people["dora"])
    page = client.get(f"{BASE}datenschutz/")
    assert page.status_code == 200
    assert 'name="privacy-version"' not in page.content.decode()
    before = _state()
    for path, data in _attempts(*things):
        if path.endswith("datenschutz/"):
            assert client.post(path, data).status_code == 403
    assert _state() == before


def test_a_stranger_is_sent_to_the_login(client):
    answer = client.get(f"{BASE}versand/")
    assert answer.status_code == 302 and "login" in answer["Location"]


def test_an_administrator_opens_every_page(as_, people, things):
    client = as_(people["ida"])
    for path in {p for p, _ in _attempts(*things) if not p.endswith(("delete/", "down/"))}:
        assert client.get(path).status_code == 200, path


def test_the_links_show_only_what_each_may_open(as_, people):
    home = as_(people["ida"]).get("/redaktion/").content.decode()
    assert f'href="{BASE}"' in home
    page = as_(people["ida"]).get(BASE).content.decode()
    areas = (
        "versand/",
        "themen/",
        "stadtteile/",
        "preise/",
        "vorlagen/",
        "datenschutz/",
        "archiv/",
    )
    for area in areas:
        assert f'href="{BASE}{area}"' in page
    officer = as_(people["dora"]).get("/redaktion/").content.decode()
    assert f'href="{BASE}datenschutz/"' in officer and f'href="{BASE}"' not in officer
    for name in ("erika", "paula", "gerd", "vera"):
        assert BASE not in as_(people[name]).get("/redaktion/").content.decode(), name


def test_an_unknown_list_or_step_is_404(as_, people, things):
    client = as_(people["ida"])
    topic, _ = things
    assert client.get(f"{BASE}strassen/").status_code == 404
    assert client.post(f"{BASE}themen/{topic.pk}/explode/").status_code == 404
    assert client.post(f"{BASE}themen/99999/delete/").status_code == 404
    assert client.get(f"{BASE}themen/{topic.pk}/delete/").status_code == 405
