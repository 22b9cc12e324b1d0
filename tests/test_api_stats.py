"""The statistics API: subscribers per day and per-post figures from the dashboards'
counters, with a token; bad periods and limits get a 422 that says why, no token a 401."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from stadtbote.accounts.roles import Role
from stadtbote.accounts.tokens import create_token
from stadtbote.broadcasts.models import Delivery, Post
from stadtbote.channels.models import SendState
from stadtbote.dashboards import rollup
from tests.helpers import ALICE, BOB, active_subscriber, staff_with_roles

pytestmark = pytest.mark.django_db


@pytest.fixture
def vera(django_user_model):
    return staff_with_roles(django_user_model, vera=Role.VIEWER)["vera"]


@pytest.fixture
def get(client, vera):
    token = create_token(vera, read_only=True)

    def send(path: str, **params: str):
        return client.get(f"/api/v1{path}", params, HTTP_AUTHORIZATION=f"Bearer {token}")

    return send


@pytest.fixture
def counted(vera):
    alice, bob = active_subscriber(ALICE), active_subscriber(BOB)
    post = Post.objects.create(
        title="Stadtfest",
        text="x",
        author=vera,
        status=Post.Status.SENT,
        send_started_at=timezone.now() - timedelta(hours=1),
    )
    Delivery.objects.create(post=post, subscriber=alice, state=SendState.READ, message_id="a")
    Delivery.objects.create(
        post=post, subscriber=bob, state=SendState.FAILED, message_id="b", error_code=131026
    )
    rollup.refresh(timezone.now())
    return post


def test_subscribers_per_day_come_from_the_counters(get, counted):
    today = rollup.local_day(timezone.now())
    with CaptureQueriesContext(connection) as queries:
        answer = get("/stats/subscribers", **{"from": str(today - timedelta(days=6))})
    assert answer.status_code == 200
    days = answer.json()["days"]
    assert len(days) == 7 and days[-1] == {
        "day": str(today),
        "active": 2,
        "estimated": False,
        "joined": 2,
        "left": 0,
    }
    assert answer.json()["as_of"] is not None
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert '"subscribers_subscriber"' not in sql and '"subscribers_consentevent"' not in sql


def test_posts_come_with_their_funnel(get, counted):
    answer = get("/stats/posts")
    assert answer.status_code == 200
    (post,) = answer.json()["posts"]
    assert post["id"] == counted.pk and post["counted"] is True
    assert (post["total"], post["read"], post["failed"]) == (2, 1, 1)
    assert post["failed_by_reason"] == {"131026": 1}


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-02-30"},
        {"from": "gestern"},
        {"to": "2026-13-01"},
        {"from": "2026-05-02", "to": "2026-05-01"},
        {"from": "2020-01-01", "to": "2026-01-01"},
    ],
)
def test_a_bad_period_gets_a_422_that_says_why(get, counted, params):
    answer = get("/stats/subscribers", **params)
    assert answer.status_code == 422
    assert answer.json()["detail"]


@pytest.mark.parametrize("limit", ["0", "101", "-1", "x"])
def test_a_bad_limit_gets_a_422(get, counted, limit):
    assert get("/stats/posts", limit=limit).status_code == 422


def test_without_a_token_there_are_no_figures(client, counted):
    for path in ("/api/v1/stats/subscribers", "/api/v1/stats/posts"):
        assert client.get(path).status_code == 401
        assert client.get(path, HTTP_AUTHORIZATION="Bearer wrong").status_code == 401


def test_the_openapi_document_describes_them(client):
    document = client.get("/api/v1/openapi.json").json()
    for path in ("/api/v1/stats/subscribers", "/api/v1/stats/posts"):
        responses = document["paths"][path]["get"]["responses"]
        assert {"200", "400", "401", "422"} <= set(responses)
    parameters = document["paths"]["/api/v1/stats/subscribers"]["get"]["parameters"]
    assert {"from", "to"} <= {p["name"] for p in parameters}
