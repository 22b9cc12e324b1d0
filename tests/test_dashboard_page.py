"""The newsroom's figures page: every staff role that reads posts sees it, anonymous visitors
are sent to the login; an empty installation gets a friendly note; the charts are well-formed
SVG images with their numbers in tables; the page reads only the counters; a bad period is
answered with a clear 400."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from stadtbote.accounts.roles import Role
from stadtbote.broadcasts.models import ChannelPosting, Delivery, Post
from stadtbote.channels.models import SendState
from stadtbote.dashboards import rollup
from stadtbote.subscribers.models import District, Topic
from tests.helpers import ALICE, BOB, active_subscriber, staff_with_roles

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"
PAGE = "/redaktion/zahlen/"


@pytest.fixture
def people(django_user_model):
    return staff_with_roles(
        django_user_model,
        erika=Role.EDITOR,
        vera=Role.VIEWER,
        ida=Role.ADMINISTRATOR,
        gerd=Role.AGENT,
        dora=Role.DATA_PROTECTION_OFFICER,
    )


@pytest.fixture
def counted(people):
    topic = Topic.objects.create(name="Baustellen & Verkehr", slug="baustellen")
    District.objects.create(name="Altstadt", slug="altstadt")
    alice, bob = active_subscriber(ALICE), active_subscriber(BOB)
    alice.topics.add(topic)
    now = timezone.now()
    post = Post.objects.create(
        title="Stadtfest <am> Markt",
        text="x",
        author=people["erika"],
        status=Post.Status.SENT,
        send_started_at=now - timedelta(hours=3),
        sent_at=now - timedelta(hours=2),
    )
    Delivery.objects.create(post=post, subscriber=alice, state=SendState.READ, message_id="w.1")
    Delivery.objects.create(
        post=post,
        subscriber=bob,
        state=SendState.FAILED,
        message_id="w.2",
        error_code=131026,
        last_error="Message undeliverable",
    )
    ChannelPosting.objects.create(
        post=post, posted_at=now, posted_by=people["erika"], reactions=1234
    )
    rollup.refresh(now)
    return post


def test_every_role_that_reads_posts_sees_the_page(as_, people, counted):
    for name in ("erika", "vera", "ida", "gerd", "dora"):
        page = as_(people[name]).get(PAGE)
        assert page.status_code == 200, name


def test_anonymous_visitors_are_sent_to_the_login(client):
    page = client.get(PAGE)
    assert page.status_code == 302
    assert "login" in page["Location"]


def test_the_navigation_leads_to_it(as_, people):
    assert f'href="{PAGE}"' in as_(people["vera"]).get("/redaktion/").content.decode()


def test_an_empty_installation_gets_a_friendly_note_and_no_chart(as_, people):
    page = as_(people["vera"]).get(PAGE)
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" not in html
    assert "Noch gibt es keine Zahlen" in html  # German, the default language


def test_the_charts_are_well_formed_images_with_their_numbers_in_tables(as_, people, counted):
    page = as_(people["vera"]).get(PAGE, HTTP_ACCEPT_LANGUAGE="de")
    html = page.content.decode()
    charts = [
        html[start : html.index("</svg>", start) + len("</svg>")] for start in _all(html, "<svg")
    ]
    assert len(charts) == 6  # with reactions per day; the chart by emoji waits for one
    for chart in charts:
        root = ET.fromstring(chart)
        assert root.tag == f"{SVG}svg"
        assert root.get("role") == "img"
        title = root.find(f"{SVG}title")
        assert title is not None and title.text
        labelled = root.get("aria-labelledby", "").split()
        assert title.get("id") in labelled
    assert html.count("<table") == 5
    assert "&lt;am&gt;" in html  # a post's title is escaped, in the chart and the table
    # German figures: thousands grouped with a dot, days as 02.12.2026.
    assert "1.234" in html
    assert timezone.localdate().strftime("%d.%m.%Y") in html
    assert "131026 Message undeliverable" in html
    assert f'href="/redaktion/{counted.pk}/"' in html


def test_the_page_reads_only_the_counters(as_, people, counted):
    client = as_(people["vera"])
    with CaptureQueriesContext(connection) as queries:
        assert client.get(PAGE).status_code == 200
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    for big in ("broadcasts_delivery", "subscribers_subscriber", "subscribers_consentevent"):
        assert f'"{big}"' not in sql
    assert "dashboards_postfigures" in sql


@pytest.mark.parametrize("period", ["7", "abc", "-30", "90.5", "9" * 40, "", "²", "3\u0660"])
def test_a_bad_period_is_answered_clearly(as_, people, counted, period):
    page = as_(people["vera"]).get(PAGE, {"tage": period}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 400
    assert "30, 90, 365" in page.content.decode()


@pytest.mark.parametrize("period", ["30", "365"])
def test_a_period_can_be_chosen(as_, people, counted, period):
    page = as_(people["vera"]).get(PAGE, {"tage": period})
    assert page.status_code == 200
    assert len(page.context["series"]) == int(period)


def _all(text: str, needle: str) -> list[int]:
    found, at = [], text.find(needle)
    while at != -1:
        found.append(at)
        at = text.find(needle, at + 1)
    return found
