"""Poll results through the REST API: the aggregates with a token, 404 for a post that is no
poll, 401 without a valid token; documented in the OpenAPI document."""

from __future__ import annotations

import pytest
from django.utils import timezone

from stadtbote.accounts.roles import Role
from stadtbote.accounts.tokens import create_token
from stadtbote.broadcasts import actions as posts
from stadtbote.broadcasts.models import Delivery, Post
from stadtbote.channels.models import SendState
from stadtbote.polls import actions, voting
from stadtbote.subscribers.models import District
from tests.helpers import ALICE, BOB, active_subscriber, staff_with_roles

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(django_user_model):
    return staff_with_roles(django_user_model, erika=Role.EDITOR, gerd=Role.AGENT)


@pytest.fixture
def token(people):
    return create_token(people["gerd"], read_only=True)


@pytest.fixture
def poll(people):
    District.objects.create(name="Nord", slug="nord")
    poll = actions.create_poll(
        people["erika"], title="Radweg", question="Soll er kommen?", answers=["Ja", "Nein", "Egal"],
        multiple=True, districts=["nord"],
    )  # fmt: skip
    Post.objects.filter(pk=poll.post_id).update(
        status=Post.Status.SENT, send_started_at=timezone.now()
    )
    alice, bob = active_subscriber(ALICE), active_subscriber(BOB)
    alice.districts.add(District.objects.get())
    for subscriber in (alice, bob):
        Delivery.objects.create(post=poll.post, subscriber=subscriber, state=SendState.DELIVERED)
    keys = list(poll.options.values_list("key", flat=True))
    voting.on_tap(alice, f"poll:{poll.pk}:{keys[0]}", timezone.now())
    voting.on_tap(alice, f"poll:{poll.pk}:{keys[2]}", timezone.now())
    return poll


def get(client, path: str, token: str | None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.get(f"/api/v1{path}", **headers)


def test_the_results_are_the_aggregates(client, token, poll):
    answer = get(client, f"/polls/{poll.post_id}/results", token)
    assert answer.status_code == 200
    data = answer.json()
    assert {k: data[k] for k in ("post_id", "title", "question", "multiple", "is_open")} == {
        "post_id": poll.post_id,
        "title": "Radweg",
        "question": "Soll er kommen?",
        "multiple": True,
        "is_open": True,
    }
    assert data["answers"] == [
        {"label": "Ja", "votes": 1, "share": 1.0},
        {"label": "Nein", "votes": 0, "share": 0.0},
        {"label": "Egal", "votes": 1, "share": 1.0},
    ]
    assert (data["voters"], data["reached"], data["participation"]) == (1, 2, 0.5)
    assert (data["rejected"], data["late"], data["closes_at"]) == (0, 0, None)
    assert data["by_district"] == [
        {
            "name": "Nord",
            "voters": 1,
            "answers": [
                {"label": "Ja", "votes": 1, "share": 1.0},
                {"label": "Nein", "votes": 0, "share": 0.0},
                {"label": "Egal", "votes": 1, "share": 1.0},
            ],
        }
    ]
    assert ALICE not in answer.content.decode() and "subscriber" not in answer.content.decode()


def test_a_post_that_is_no_poll_or_none_at_all_is_404(client, token, people):
    post = posts.create_post(people["erika"], title="Fest", text="x")
    assert get(client, f"/polls/{post.pk}/results", token).status_code == 404
    assert get(client, "/polls/999999/results", token).status_code == 404
    assert get(client, "/polls/abc/results", token).status_code == 422


def test_without_a_valid_token_it_is_401(client, poll):
    assert get(client, f"/polls/{poll.post_id}/results", None).status_code == 401
    assert get(client, f"/polls/{poll.post_id}/results", "sbt_forged").status_code == 401


def test_a_revoked_token_is_401(client, token, poll):
    from stadtbote.accounts.models import ApiToken

    ApiToken.objects.update(revoked_at=timezone.now())
    assert get(client, f"/polls/{poll.post_id}/results", token).status_code == 401


def test_the_openapi_document_describes_it(client):
    document = client.get("/api/v1/openapi.json").json()
    operation = document["paths"]["/api/v1/polls/{post_id}/results"]["get"]
    assert set(operation["responses"]) >= {"200", "401", "404"}
    assert "polls" in operation["tags"]
    schema = document["components"]["schemas"]["PollResultsOut"]
    assert {"answers", "voters", "reached", "participation", "by_district"} <= set(
        schema["properties"]
    )


def test_an_id_beyond_the_integer_range_is_not_found(client, token):
    assert get(client, f"/polls/{2**70}/results", token).status_code == 404
