"""The public archive and reactions: with the setting off (the default) nothing about them is
public; with it on, a post's page shows its counts per emoji as the figures last counted them.
The page's ETag and Last-Modified change when the counts or the setting change, so that
browsers and the city's proxy never keep an old page, and stay put otherwise (304)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from stadtbote.accounts.roles import Role
from stadtbote.broadcasts.models import Delivery
from stadtbote.channels.models import SendState
from stadtbote.dashboards import rollup
from stadtbote.public import archive, archive_settings
from tests.helpers import ALICE, BOB, active_subscriber, staff_with_roles
from tests.reaction_support import message_id, react, sent_post

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_immediate_sending(monkeypatch):
    monkeypatch.setattr("stadtbote.dialogue.outbox.transaction.on_commit", lambda fn: None)


@pytest.fixture
def ida(django_user_model):
    return staff_with_roles(django_user_model, ida=Role.ADMINISTRATOR)["ida"]


@pytest.fixture
def post(ida):
    post = sent_post(ida, [active_subscriber(ALICE), active_subscriber(BOB)], title="Stadtfest")
    react(ALICE, message_id(post, 0), "👍")
    react(BOB, message_id(post, 1), "❤️")
    rollup.refresh(timezone.now())
    return post


def url(post) -> str:
    return f"/archiv/{post.pk}-{archive.slug(post)}/"


def test_with_the_setting_off_no_reaction_is_public(client, post):
    page = client.get(url(post))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Stadtfest" in html
    assert "👍" not in html and 'aria-labelledby="reactions"' not in html


def test_with_the_setting_on_the_post_shows_its_counts_per_emoji(client, ida, post):
    archive_settings.change(ida, show_reactions=True)
    page = client.get(url(post), HTTP_ACCEPT_LANGUAGE="de")
    html = page.content.decode()
    assert "Reaktionen in WhatsApp" in html
    assert "<li>👍 1</li>" in html and "<li>❤️ 1</li>" in html
    assert not page.cookies  # still a public, cookie-free page


def test_the_counts_are_the_figures_not_the_reactions_themselves(client, ida, post):
    archive_settings.change(ida, show_reactions=True)
    react(ALICE, message_id(post, 0), "😮")  # not counted yet
    with CaptureQueriesContext(connection) as queries:
        html = client.get(url(post)).content.decode()
    assert "<li>👍 1</li>" in html and "😮" not in html
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert '"broadcasts_postreaction"' not in sql and '"broadcasts_delivery"' not in sql
    rollup.refresh(timezone.now())
    html = client.get(url(post)).content.decode()
    assert "<li>😮 1</li>" in html and "👍" not in html


def test_a_post_without_reactions_shows_no_empty_box(client, ida):
    archive_settings.change(ida, show_reactions=True)
    quiet = sent_post(ida, [], title="Ruhig")
    rollup.refresh(timezone.now())
    page = client.get(url(quiet))
    assert page.status_code == 200
    assert 'aria-labelledby="reactions"' not in page.content.decode()


def test_the_etag_changes_with_the_counts(client, ida, post):
    archive_settings.change(ida, show_reactions=True)
    first = client.get(url(post))
    assert client.get(url(post), HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    react(BOB, message_id(post, 1), "👍")
    # Not counted yet: the page has not changed either.
    assert client.get(url(post), HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    rollup.refresh(timezone.now())
    changed = client.get(url(post), HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]
    assert "<li>👍 2</li>" in changed.content.decode()


def test_the_etag_changes_with_the_setting(client, ida, post):
    hidden = client.get(url(post))
    archive_settings.change(ida, show_reactions=True)
    shown = client.get(url(post), HTTP_IF_NONE_MATCH=hidden["ETag"])
    assert shown.status_code == 200 and shown["ETag"] != hidden["ETag"]
    archive_settings.change(ida, show_reactions=False)
    again = client.get(url(post), HTTP_IF_NONE_MATCH=shown["ETag"])
    assert again.status_code == 200 and "👍" not in again.content.decode()


def test_a_client_asking_by_date_alone_gets_the_new_counts(client, ida, post):
    archive_settings.change(ida, show_reactions=True)
    first = client.get(url(post))
    assert client.get(url(post), HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304
    react(BOB, message_id(post, 1), "👍")
    # The rollup's time, a minute on: Last-Modified counts in whole seconds.
    rollup.refresh(timezone.now() + timedelta(minutes=1))
    later = client.get(url(post), HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert later.status_code == 200 and "<li>👍 2</li>" in later.content.decode()


def test_the_most_frequent_comes_first(client, ida, post):
    archive_settings.change(ida, show_reactions=True)
    react(ALICE, message_id(post, 0), "❤️")  # now two hearts, no thumb
    rollup.refresh(timezone.now())
    html = client.get(url(post)).content.decode()
    assert "<li>❤️ 2</li>" in html and "👍" not in html
    carol = active_subscriber("491705550000")
    Delivery.objects.create(post=post, subscriber=carol, state=SendState.READ, message_id="w.c")
    react("491705550000", "w.c", "👍")
    rollup.refresh(timezone.now())
    html = client.get(url(post)).content.decode()
    assert html.index("<li>❤️ 2</li>") < html.index("<li>👍 1</li>")


def test_an_emoji_that_is_markup_stays_text(client, ida, post):
    archive_settings.change(ida, show_reactions=True)
    react(ALICE, message_id(post, 0), '<img src=x onerror="alert(1)">')
    rollup.refresh(timezone.now())
    html = client.get(url(post)).content.decode()
    assert "<img src=x" not in html and "&lt;img src=x" in html


def test_the_list_and_the_widget_show_no_counts(client, ida, post):
    archive_settings.change(ida, show_reactions=True)
    for path in ("/archiv/", "/widget/"):
        assert "👍" not in client.get(path).content.decode(), path
