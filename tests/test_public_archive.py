"""The public archive: every post that went out, newest first, per topic, searchable, each
with its permalink; RSS and Atom feeds; the embeddable widget; cacheable, cookie-free pages
that load nothing from other sites."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from stadtbote.accounts.tokens import create_token
from stadtbote.broadcasts import actions
from stadtbote.broadcasts.models import Post
from stadtbote.public import archive
from stadtbote.subscribers.models import Topic

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def editor(django_user_model):
    return django_user_model.objects.create(username="erika")


@pytest.fixture
def topics():
    return {
        "bau": Topic.objects.create(name="Baustellen", slug="baustellen"),
        "fest": Topic.objects.create(name="Veranstaltungen", slug="veranstaltungen"),
    }


@pytest.fixture
def make_post(editor):
    def make(
        title: str,
        *,
        status: str = Post.Status.SENT,
        hours_ago: float = 1,
        text: str = "Ein *Text*.",
        topics: tuple[Topic, ...] = (),
        **fields,
    ) -> Post:
        post = actions.create_post(editor, title=title, text=text, **fields)
        post.topics.set(topics)
        started = (
            None
            if status in (Post.Status.DRAFT, Post.Status.SUBMITTED)
            else (timezone.now() - timedelta(hours=hours_ago))
        )
        Post.objects.filter(pk=post.pk).update(status=status, send_started_at=started)
        post.refresh_from_db()
        return post

    return make


def titles(html: str) -> list[str]:
    return re.findall(r'<h2><a href="[^"]+">([^<]+)</a></h2>', html)


def test_only_what_went_out_is_public_newest_first(client, make_post):
    make_post("Alt", hours_ago=5)
    make_post("Neu", hours_ago=1, status=Post.Status.SENDING)
    make_post("Angehalten", hours_ago=3, status=Post.Status.PAUSED)
    make_post("Entwurf", status=Post.Status.DRAFT)
    make_post("Wartet", status=Post.Status.SUBMITTED)
    make_post("Geplant", status=Post.Status.SCHEDULED)
    make_post("Abgebrochen", status=Post.Status.CANCELLED)
    hidden = make_post("Versteckt")
    Post.objects.filter(pk=hidden.pk).update(on_website=False)
    response = client.get("/archiv/")
    assert response.status_code == 200
    assert titles(response.content.decode()) == ["Neu", "Angehalten", "Alt"]


def test_urgent_posts_are_marked(client, make_post):
    make_post("Sturm", urgent=True)
    assert "Dringend" in client.get("/archiv/").content.decode()


def test_pages_of_twenty(client, make_post):
    for n in range(archive.PAGE_SIZE + 3):
        make_post(f"Nachricht {n:02d}", hours_ago=n + 1)
    first = client.get("/archiv/").content.decode()
    assert len(titles(first)) == archive.PAGE_SIZE and 'rel="next"' in first
    second = client.get("/archiv/?seite=2").content.decode()
    assert titles(second) == ["Nachricht 20", "Nachricht 21", "Nachricht 22"]
    assert client.get("/archiv/?seite=3").status_code == 404
    assert titles(client.get("/archiv/?seite=abc").content.decode()) == titles(first)


def test_per_topic_and_unknown_topics(client, make_post, topics):
    make_post("Sperrung Hauptstraße", topics=(topics["bau"],))
    make_post("Stadtfest", topics=(topics["fest"],))
    page = client.get("/archiv/thema/baustellen/").content.decode()
    assert titles(page) == ["Sperrung Hauptstraße"]
    assert client.get("/archiv/thema/gibt-es-nicht/").status_code == 404


def test_search_in_title_and_text_every_word(client, make_post):
    make_post("Sperrung", text="Die Hauptstraße ist ab Montag gesperrt.")
    make_post("Stadtfest", text="Am Samstag auf dem Marktplatz.")
    assert titles(client.get("/archiv/?q=hauptstraße").content.decode()) == ["Sperrung"]
    assert titles(client.get("/archiv/?q=Samstag+Marktplatz").content.decode()) == ["Stadtfest"]
    empty = client.get("/archiv/?q=Samstag+Hauptstraße").content.decode()
    assert titles(empty) == [] and "Keine Nachricht passt" in empty
    assert client.get("/archiv/?q=" + "x" * 5000).status_code == 200  # cut, not refused


def test_the_search_is_shown_escaped(client, make_post):
    page = client.get("/archiv/?q=<script>alert(1)</script>").content.decode()
    assert "<script>alert" not in page and "&lt;script&gt;" in page


def test_each_post_has_a_permalink(client, make_post, topics):
    post = make_post(
        "Sperrung Hauptstraße",
        text="Ab *Montag* gesperrt.",
        link="https://stadt.example/bau",
        topics=(topics["bau"],),
    )
    url = f"/archiv/{post.pk}-sperrung-hauptstrasse/"
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "<strong>Montag</strong>" in html and "https://stadt.example/bau" in html
    assert client.get(f"/archiv/{post.pk}/").url == url
    assert client.get(f"/archiv/{post.pk}-falsch/").url == url
    assert client.get("/archiv/").content.decode().count(url) == 1


def test_a_post_that_is_not_public_has_no_permalink(client, make_post):
    draft = make_post("Entwurf", status=Post.Status.DRAFT)
    cancelled = make_post("Abgebrochen", status=Post.Status.CANCELLED)
    for post in (draft, cancelled):
        assert client.get(f"/archiv/{post.pk}/").status_code == 404
    assert client.get("/archiv/999999/").status_code == 404


def test_the_text_is_escaped_before_formatting(client, make_post):
    post = make_post("Test", text='<img src=x onerror="alert(1)"> *fett*')
    html = client.get(f"/archiv/{post.pk}/", follow=True).content.decode()
    assert "<img src=x" not in html and "&lt;img" in html and "<strong>fett</strong>" in html


def test_rss_feed_of_all_and_per_topic(client, make_post, topics):
    make_post("Alt", hours_ago=3, topics=(topics["bau"],))
    make_post("Sturm", hours_ago=1, urgent=True, topics=(topics["fest"],))
    make_post("Entwurf", status=Post.Status.DRAFT)
    response = client.get("/archiv/rss/")
    assert response["Content-Type"].startswith("application/rss+xml")
    channel = ET.fromstring(response.content).find("channel")
    items = channel.findall("item")
    assert [i.findtext("title") for i in items] == ["Dringend: Sturm", "Alt"]
    assert items[1].findtext("link").startswith("http://testserver/archiv/")
    assert items[1].findtext("category") == "Baustellen"
    assert items[0].findtext("pubDate")
    topic = ET.fromstring(client.get("/archiv/thema/baustellen/rss/").content)
    assert [i.findtext("title") for i in topic.find("channel").findall("item")] == ["Alt"]
    assert client.get("/archiv/thema/nichts/rss/").status_code == 404


def test_atom_feed(client, make_post):
    make_post("Stadtfest", text="Am *Samstag*.")
    response = client.get("/archiv/atom/")
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    entry = feed.find(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == "Stadtfest"
    assert entry.find(f"{ATOM}link").get("href").startswith("http://testserver/archiv/")
    assert entry.findtext(f"{ATOM}updated")


def test_the_feeds_are_discoverable_from_the_pages(client, make_post, topics):
    post = make_post("Fest", topics=(topics["fest"],))
    for url, feeds in [
        ("/archiv/", ["/archiv/rss/", "/archiv/atom/"]),
        ("/archiv/thema/veranstaltungen/", ["/archiv/thema/veranstaltungen/rss/"]),
        (f"/archiv/{post.pk}-fest/", ["/archiv/rss/"]),
    ]:
        html = client.get(url).content.decode()
        alternates = re.findall(
            r'<link rel="alternate" type="[^"]+" title="[^"]*" href="([^"]+)"', html
        )
        assert set(feeds) <= set(alternates), url


def test_pages_are_cacheable_and_answered_304_when_unchanged(client, make_post):
    make_post("Fest")
    first = client.get("/archiv/")
    assert "public" in first["Cache-Control"] and "max-age=300" in first["Cache-Control"]
    assert first["ETag"] and first["Last-Modified"]
    again = client.get("/archiv/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    make_post("Neu", hours_ago=0.1)
    changed = client.get("/archiv/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]
    feed = client.get("/archiv/rss/")
    assert client.get("/archiv/rss/", HTTP_IF_NONE_MATCH=feed["ETag"]).status_code == 304


def test_hiding_a_post_changes_the_etag(client, make_post):
    post = make_post("Fest")
    make_post("Markt", hours_ago=2)
    etag = client.get("/archiv/")["ETag"]
    Post.objects.filter(pk=post.pk).update(on_website=False)
    assert client.get("/archiv/", HTTP_IF_NONE_MATCH=etag).status_code == 200


@pytest.mark.parametrize(
    "url", ["/archiv/", "/archiv/rss/", "/archiv/atom/", "/widget/", "/anmelden/", "/datenschutz/"]
)
def test_public_pages_set_no_cookie_and_load_nothing_from_other_sites(client, make_post, url):
    make_post("Fest", link="https://stadt.example/fest")
    response = client.get(url)
    assert response.status_code == 200
    assert not response.cookies
    html = response.content.decode()
    # Links to other sites are fine; anything the browser would fetch by itself is not.
    fetched = re.findall(r'<(?:script|img|iframe|link)[^>]+(?:src|href)="(https?://[^"]+)"', html)
    assert [u for u in fetched if not u.startswith("http://testserver/")] == []


def test_only_get_is_allowed(client):
    assert client.post("/archiv/").status_code == 405


def test_the_widget_shows_the_latest_posts_and_may_be_embedded(client, make_post, topics):
    for n in range(7):
        make_post(f"Nachricht {n}", hours_ago=n + 1, topics=(topics["bau"],) if n % 2 else ())
    response = client.get("/widget/")
    html = response.content.decode()
    assert html.count("<li>") == 5 and "Nachricht 0" in html and "Nachricht 5" not in html
    assert "X-Frame-Options" not in response.headers
    assert "frame-ancestors *" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in client.get("/archiv/")["Content-Security-Policy"]
    topic = client.get("/widget/?thema=baustellen&anzahl=2").content.decode()
    assert topic.count("<li>") == 2 and "Nachricht 1" in topic and "Nachricht 0" not in topic
    assert client.get("/widget/?anzahl=abc").status_code == 200
    assert client.get("/widget/?anzahl=100000").content.decode().count("<li>") == 7
    assert client.get("/widget/?thema=nichts").status_code == 404


def test_a_post_written_for_the_chat_only_stays_off_the_website(client, make_post, editor):
    make_post("Nur im Chat", on_website=False)
    editor.user_permissions.add(*Permission.objects.filter(codename__in=["add_post", "view_post"]))
    response = client.post(
        "/api/v1/posts",
        {"title": "Test", "text": "x", "on_website": False},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {create_token(editor)}",
    )
    assert response.status_code == 201 and response.json()["on_website"] is False
    assert titles(client.get("/archiv/").content.decode()) == []
