"""Staff choose their language with the switch in the header (Django's set_language): the
choice is remembered in the language cookie and followed by the newsroom and the admin;
without a choice the browser's language counts, else German."""

from __future__ import annotations

import pytest
from django.conf import settings

from stadtbote.accounts.roles import Role
from tests.helpers import staff_login, staff_with_roles

pytestmark = pytest.mark.django_db


@pytest.fixture
def erika(client, django_user_model):
    user = staff_with_roles(django_user_model, erika=Role.EDITOR)["erika"]
    staff_login(client, user)
    return user


def test_the_switch_is_on_every_staff_page(client, erika):
    for path in ["/redaktion/", "/redaktion/neu/", "/redaktion/kalender/"]:
        page = client.get(path).content.decode()
        assert 'action="/i18n/setlang/"' in page and 'name="language"' in page, path
    assert 'action="/i18n/setlang/"' in client.get("/staff/login/").content.decode()
    admin = client.get("/admin/")
    assert admin.status_code == 200 and 'action="/i18n/setlang/"' in admin.content.decode()


def test_choosing_english_is_remembered_for_the_newsroom_and_the_admin(client, erika):
    german = client.get("/redaktion/").content.decode()
    assert "Neuer Beitrag" in german and "Entwürfe" in german and "Drafts" not in german
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/redaktion/"})
    assert response.status_code == 302 and response["Location"] == "/redaktion/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME]["httponly"]
    newsroom = client.get("/redaktion/").content.decode()
    assert "New post" in newsroom and "Neuer Beitrag" not in newsroom and 'lang="en"' in newsroom
    assert "Drafts" in newsroom and "Entwürfe" not in newsroom
    admin = client.get("/admin/broadcasts/post/").content.decode()
    assert 'lang="en"' in admin and "Select post to change" in admin
    client.post("/i18n/setlang/", {"language": "de", "next": "/redaktion/"})
    assert "Neuer Beitrag" in client.get("/redaktion/").content.decode()


def test_an_unknown_language_or_a_foreign_next_changes_nothing_harmful(client, erika):
    response = client.post("/i18n/setlang/", {"language": "xx", "next": "/redaktion/"})
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    away = client.post("/i18n/setlang/", {"language": "en", "next": "https://example.org/"})
    assert away.status_code == 302 and "example.org" not in away["Location"]


def test_the_switch_needs_a_post_with_a_csrf_token(erika):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/i18n/setlang/", {"language": "en"}).status_code == 403


def test_without_a_choice_the_browsers_language_counts(client, erika):
    assert "New post" in client.get("/redaktion/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
