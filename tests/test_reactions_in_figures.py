"""Reactions on the figures page and in the statistics API: per post (in the chat, beside the
Channel's typed-in count, each labelled as what it is), per day for the chosen period as a
chart with its table, by emoji; all read from the counters, never from the reactions."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from stadtbote.accounts.roles import Role
from stadtbote.accounts.tokens import create_token
from stadtbote.broadcasts.models import ChannelPosting
from stadtbote.dashboards import rollup
from tests.helpers import ALICE, BOB, active_subscriber, compact, staff_with_roles, text_message
from tests.reaction_support import deliver, message_id, react, sent_post

pytestmark = pytest.mark.django_db

PAGE = "/redaktion/zahlen/"
CAROL = "491705550000"


@pytest.fixture(autouse=True)
def no_immediate_sending(monkeypatch):
    monkeypatch.setattr("stadtbote.dialogue.outbox.transaction.on_commit", lambda fn: None)


@pytest.fixture
def vera(django_user_model):
    return staff_with_roles(django_user_model, vera=Role.VIEWER)["vera"]


@pytest.fixture
def post(vera):
    people = [active_subscriber(n) for n in (ALICE, BOB, CAROL)]
    post = sent_post(vera, people, title="Stadtfest")
    ChannelPosting.objects.create(post=post, posted_at=timezone.now(), posted_by=vera, reactions=77)
    return post


@pytest.fixture
def counted(post):
    react(ALICE, message_id(post, 0), "👍")
    react(BOB, message_id(post, 1), "👍")
    react(CAROL, message_id(post, 2), "❤️")
    forwarded = text_message(BOB, "Weitergeleitet")
    forwarded["entry"][0]["changes"][0]["value"]["messages"][0]["context"] = {"forwarded": True}
    deliver(compact(forwarded))
    rollup.refresh(timezone.now())
    return post


def test_each_post_shows_its_chat_reactions_beside_the_channels(as_, vera, counted):
    html = as_(vera).get(PAGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Reactions in the chat" in html and "Channel reactions" in html
    row = html[html.index(f'href="/redaktion/{counted.pk}/"') :]
    row = row[: row.index("</tr>")]
    assert "👍 2 · ❤️ 1" in row
    assert "77" in row  # the Channel's count, typed in, in its own column


def test_reactions_per_day_are_a_chart_with_a_table(as_, vera, counted):
    page = as_(vera).get(PAGE, HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    titles = [
        ET.fromstring(html[s : html.index("</svg>", s) + 6]).findtext(
            "{http://www.w3.org/2000/svg}title"
        )
        for s in _all(html, "<svg")
    ]
    assert "Reactions in the chat per day" in titles
    assert "Reactions in the chat by emoji" in titles
    assert "Reactions and forwarded messages per day" in html
    today = page.context["signal_rows"][0]
    assert today[1:] == ("3", "👍 2 · ❤️ 1", "1")  # reactions, most given, forwarded
    assert page.context["reactions_total"] == 3 and page.context["forwarded_total"] == 1
    assert page.context["emoji"] == [("👍", 2), ("❤️", 1)]


def test_the_period_chosen_limits_the_days(as_, vera, post):
    two_months_ago = int(time.time()) - 60 * 86400
    react(ALICE, message_id(post, 0), "👍", at=two_months_ago)
    rollup.refresh(timezone.now())
    client = as_(vera)
    assert client.get(PAGE, {"tage": "90"}).context["reactions_total"] == 1
    shorter = client.get(PAGE, {"tage": "30"})
    assert shorter.context["reactions_total"] == 0
    assert len(shorter.context["signal_rows"]) == 30


def test_without_reactions_the_section_says_so_and_draws_no_emoji_chart(as_, vera, post):
    rollup.refresh(timezone.now())
    page = as_(vera).get(PAGE, HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert "No reactions in this period." in html
    assert "Reactions in the chat by emoji" not in html
    assert page.context["emoji"] == []


def test_the_page_reads_the_counters_not_the_reactions(as_, vera, counted):
    client = as_(vera)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(PAGE).status_code == 200
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    for big in ("broadcasts_postreaction", "dialogue_receivedmessage", "broadcasts_delivery"):
        assert f'"{big}"' not in sql
    assert "dashboards_reactionday" in sql


def test_an_emoji_that_is_markup_is_shown_as_text(as_, vera, post):
    react(ALICE, message_id(post, 0), "<b>x</b>")
    rollup.refresh(timezone.now())
    html = as_(vera).get(PAGE).content.decode()
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


def test_the_api_gives_each_posts_reactions_per_emoji(client, vera, counted):
    token = create_token(vera, read_only=True)
    answer = client.get("/api/v1/stats/posts", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert answer.status_code == 200
    (item,) = answer.json()["posts"]
    assert item["reactions"] == {"👍": 2, "❤️": 1}
    assert item["channel_reactions"] == 77
    schema = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert "reactions" in schema["PostFiguresOut"]["properties"]


def test_the_api_gives_a_post_not_counted_yet_no_reactions(client, vera, post):
    react(ALICE, message_id(post, 0), "👍")  # no rollup has run since
    token = create_token(vera, read_only=True)
    answer = client.get("/api/v1/stats/posts", HTTP_AUTHORIZATION=f"Bearer {token}")
    (item,) = answer.json()["posts"]
    assert item["counted"] is False and item["reactions"] == {}


def _all(text: str, needle: str) -> list[int]:
    found, at = [], text.find(needle)
    while at != -1:
        found.append(at)
        at = text.find(needle, at + 1)
    return found


def test_the_section_speaks_german(as_, vera, counted):
    html = as_(vera).get(PAGE, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Reaktionen im Chat pro Tag" in html
    assert "Weitergeleitete Nachrichten" in html
