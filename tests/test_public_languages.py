"""The public pages speak German by default and English on request: `?lang=` in the address,
else the browser's Accept-Language. They stay cacheable and cookie-free: no language cookie
is read or set, each language has its own ETag, and the answer varies on Accept-Language."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from stadtbote.broadcasts import actions
from stadtbote.broadcasts.models import Post

pytestmark = pytest.mark.django_db

PAGES = ["/archiv/", "/anmelden/", "/datenschutz/", "/widget/"]


@pytest.fixture
def sent_post(django_user_model):
    editor = django_user_model.objects.create(username="erika")
    post = actions.create_post(editor, title="Sturm", text="Bitte drinnen bleiben.", urgent=True)
    Post.objects.filter(pk=post.pk).update(
        status=Post.Status.SENT, send_started_at=timezone.now() - timedelta(hours=1)
    )
    return post


@pytest.mark.parametrize("path", PAGES)
def test_every_public_page_is_german_by_default_and_english_on_request(client, path):
    german = client.get(path)
    english = client.get(path, {"lang": "en"})
    assert german.status_code == english.status_code == 200
    assert 'lang="de"' in german.content.decode() and german["Content-Language"] == "de"
    assert 'lang="en"' in english.content.decode() and english["Content-Language"] == "en"
    assert german.content != english.content


@pytest.mark.parametrize(
    ("path", "german", "english"),
    [
        ("/archiv/", "Nachrichten der Stadt", "News from the city"),
        ("/archiv/", "Noch keine Nachrichten.", "No news yet."),
        ("/anmelden/", "Per WhatsApp abonnieren", "Subscribe on WhatsApp"),
        ("/anmelden/", "Kostenlos, ohne App und ohne Konto.", "Free of charge, without an app"),
        ("/datenschutz/", "Datenschutz beim WhatsApp-Service", "Privacy in the city's WhatsApp"),
        ("/datenschutz/", "Fassung ", "Version "),
        ("/widget/", "Alle Nachrichten", "All news"),
    ],
)
def test_known_texts_appear_in_the_language_asked_for(client, path, german, english):
    in_german = client.get(path).content.decode()
    in_english = client.get(path, HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9").content.decode()
    assert german in in_german and english not in in_german
    assert english.replace("'", "&#x27;") in in_english and german not in in_english


def test_the_address_wins_over_the_browser_and_an_unknown_language_is_german(client):
    assert 'lang="de"' in client.get("/archiv/?lang=de", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="de"' in client.get("/archiv/?lang=fr").content.decode()
    assert 'lang="de"' in client.get("/archiv/", HTTP_ACCEPT_LANGUAGE="fr, *").content.decode()
    assert 'lang="en"' in client.get("/archiv/", HTTP_ACCEPT_LANGUAGE="fr, en").content.decode()


def test_a_language_cookie_is_ignored_on_public_pages(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/archiv/")
    assert 'lang="de"' in response.content.decode()
    assert not response.cookies


def test_public_pages_vary_on_the_language_and_tag_each_language_apart(client, sent_post):
    german = client.get("/archiv/")
    english = client.get("/archiv/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Accept-Language" in german["Vary"]
    assert "public" in german["Cache-Control"] and not german.cookies and not english.cookies
    assert german["ETag"] != english["ETag"]
    # The German copy's tag does not stand for the English page, and vice versa.
    assert client.get("/archiv/", HTTP_IF_NONE_MATCH=german["ETag"]).status_code == 304
    stale = client.get("/archiv/", HTTP_IF_NONE_MATCH=german["ETag"], HTTP_ACCEPT_LANGUAGE="en")
    assert stale.status_code == 200


def test_the_language_switch_links_to_the_same_page_in_each_language(client, sent_post):
    page = client.get("/archiv/", {"q": "Sturm"}).content.decode()
    assert 'href="/archiv/?q=Sturm&amp;lang=en"' in page
    assert 'href="/archiv/?q=Sturm&amp;lang=de"' in page


def test_links_carry_a_chosen_language_on_and_the_default_needs_none(client, sent_post):
    english = client.get("/archiv/", {"lang": "en"}).content.decode()
    assert '/anmelden/?lang=en"' in english and f"/archiv/{sent_post.pk}-sturm/?lang=en" in english
    assert "Urgent" in english and "Dringend" not in english
    german = client.get("/archiv/").content.decode()
    assert (
        f'/archiv/{sent_post.pk}-sturm/"' in german
        and "?lang=en" not in german.split('class="languages"')[0]
    )


def test_feeds_speak_the_language_asked_for_and_say_so(client, sent_post):
    german = client.get("/archiv/rss/").content.decode()
    english = client.get("/archiv/rss/", {"lang": "en"}).content.decode()
    assert "<language>de</language>" in german and "Dringend: Sturm" in german
    assert "<language>en</language>" in english and "Urgent: Sturm" in english
    # Machine formats stay machine formats: RFC 822 dates in English in both.
    assert "GMT</pubDate>" in german or "+0000</pubDate>" in german


def test_the_api_answers_in_english_unless_asked_otherwise(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response["Content-Language"] == "en"
    asked = client.get("/api/v1/openapi.json", HTTP_ACCEPT_LANGUAGE="de")
    assert asked["Content-Language"] == "de"
