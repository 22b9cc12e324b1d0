"""The REST API beyond writing and approving: listing, changing and scheduling posts, counting
an audience before writing, subscriber numbers (aggregates only), templates, read-only
tokens."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from stadtbote.accounts.models import AuditEntry
from stadtbote.accounts.roles import Role
from stadtbote.accounts.tokens import create_token
from stadtbote.broadcasts import actions
from stadtbote.broadcasts.models import Post, Template
from stadtbote.subscribers import actions as subscribers
from stadtbote.subscribers.models import District, Topic
from tests.helpers import ALICE, BOB, active_subscriber, staff_with_roles

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(django_user_model):
    return staff_with_roles(
        django_user_model,
        erika=Role.EDITOR,
        emil=Role.EDITOR,
        paula=Role.APPROVER,
        vera=Role.VIEWER,
    )


@pytest.fixture
def call(client):
    def send(user, method: str, path: str, body: dict | None = None, *, read_only: bool = False):
        return getattr(client, method)(
            f"/api/v1{path}",
            body if body is not None else ({} if method != "get" else None),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {create_token(user, read_only=read_only)}",
        )

    return send


@pytest.fixture
def places():
    return {
        "bau": Topic.objects.create(name="Baustellen", slug="baustellen"),
        "nord": District.objects.create(name="Nord", slug="nord"),
    }


def test_posts_are_listed_newest_first_and_filtered(call, people):
    for title in ("Eins", "Zwei", "Drei"):
        actions.create_post(people["erika"], title=title, text="x")
    submitted = actions.create_post(people["erika"], title="Vier", text="x")
    actions.submit(submitted, people["erika"])
    response = call(people["vera"], "get", "/posts")
    assert [p["title"] for p in response.json()] == ["Vier", "Drei", "Zwei", "Eins"]
    only = call(people["vera"], "get", "/posts?status=submitted").json()
    assert [p["title"] for p in only] == ["Vier"]
    assert [p["title"] for p in call(people["vera"], "get", "/posts?limit=2&offset=1").json()] == [
        "Drei",
        "Zwei",
    ]
    assert call(people["vera"], "get", "/posts?status=nonsense").status_code == 422
    assert call(people["vera"], "get", "/posts?limit=1000").status_code == 422
    assert call(people["vera"], "get", "/posts?offset=-1").status_code == 422


def test_the_author_changes_her_draft_and_only_what_she_sent(call, people, places):
    post = actions.create_post(
        people["erika"], title="Fest", text="Am Samstag", link="https://a.example"
    )
    response = call(
        people["erika"],
        "patch",
        f"/posts/{post.pk}",
        {"title": "Stadtfest", "topics": ["baustellen"]},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["title"], body["text"], body["topics"]) == (
        "Stadtfest",
        "Am Samstag",
        ["baustellen"],
    )
    assert body["link"] == "https://a.example"
    entry = AuditEntry.objects.get(action="post.updated")
    assert entry.details["fields"] == ["title", "topics"]


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"topics": ["gibt-es-nicht"]}, 409),
        ({"language": "xx"}, 409),
        ({"link": "keine url"}, 409),
        ({"text": "x" * 4097}, 422),
        ({"title": ""}, 422),
        ({"template": "unbekannt"}, 409),
    ],
)
def test_a_bad_change_is_refused_and_changes_nothing(call, people, change, status):
    post = actions.create_post(people["erika"], title="Fest", text="Am Samstag")
    response = call(people["erika"], "patch", f"/posts/{post.pk}", change)
    assert response.status_code == status, response.content
    post.refresh_from_db()
    assert (post.title, post.text, post.language, post.link) == ("Fest", "Am Samstag", "", "")


def test_only_a_draft_is_changed_and_not_by_a_viewer(call, people):
    post = actions.create_post(people["erika"], title="Fest", text="Am Samstag")
    assert call(people["vera"], "patch", f"/posts/{post.pk}", {"title": "X"}).status_code == 403
    assert call(people["emil"], "patch", f"/posts/{post.pk}", {"title": "Y"}).status_code == 200
    actions.submit(post, people["erika"])
    assert call(people["erika"], "patch", f"/posts/{post.pk}", {"title": "Z"}).status_code == 409
    assert call(people["erika"], "patch", "/posts/999999", {"title": "Z"}).status_code == 404
    post.refresh_from_db()
    assert post.title == "Y"


def test_scheduling_before_and_after_approval(call, people):
    post = actions.create_post(people["erika"], title="Fest", text="Am Samstag")
    later = (timezone.now() + timedelta(days=2)).isoformat()
    response = call(people["erika"], "post", f"/posts/{post.pk}/schedule", {"publish_at": later})
    assert response.status_code == 200 and response.json()["publish_at"]
    past = (timezone.now() - timedelta(hours=1)).isoformat()
    assert (
        call(
            people["erika"], "post", f"/posts/{post.pk}/schedule", {"publish_at": past}
        ).status_code
        == 409
    )
    actions.submit(post, people["erika"])
    assert actions.approve(post, people["paula"]).status == Post.Status.SCHEDULED
    # Approved and waiting: moving the time is the approver's decision.
    even_later = (timezone.now() + timedelta(days=3)).isoformat()
    assert (
        call(
            people["erika"], "post", f"/posts/{post.pk}/schedule", {"publish_at": even_later}
        ).status_code
        == 403
    )
    moved = call(people["paula"], "post", f"/posts/{post.pk}/schedule", {"publish_at": even_later})
    assert moved.status_code == 200 and moved.json()["status"] == "scheduled"
    now = call(people["paula"], "post", f"/posts/{post.pk}/schedule", {"publish_at": None})
    assert now.status_code == 200 and now.json()["status"] == "sending"
    assert (
        call(
            people["paula"], "post", f"/posts/{post.pk}/schedule", {"publish_at": later}
        ).status_code
        == 409
    )
    assert AuditEntry.objects.filter(action="post.rescheduled").count() == 3


def test_an_audience_is_counted_before_a_post_is_written(call, people, places):
    alice = active_subscriber(ALICE)
    subscribers.toggle_topic(alice, places["bau"])
    active_subscriber(BOB, wrote_just_now=False)
    everybody = call(people["erika"], "post", "/audiences/count", {})
    assert everybody.status_code == 200
    assert (everybody.json()["recipients"], everybody.json()["free"]) == (2, 1)
    assert (
        call(people["erika"], "post", "/audiences/count", {"topics": ["baustellen"]}).json()[
            "recipients"
        ]
        == 2
    )  # Bob chose no topics: he gets every topic that is not opt-in-only
    unknown = call(people["erika"], "post", "/audiences/count", {"districts": ["mond"]})
    assert unknown.status_code == 409
    assert call(people["vera"], "post", "/audiences/count", {}).status_code == 403
    assert not Post.objects.exists()  # the draft it counted with is gone
    assert not AuditEntry.objects.filter(action="post.created").exists()


def test_subscriber_numbers_are_aggregates_only(call, people, places):
    alice = active_subscriber(ALICE)
    subscribers.toggle_topic(alice, places["bau"])
    subscribers.toggle_district(alice, places["nord"])
    bob = active_subscriber(BOB)
    subscribers.unsubscribe(bob, wording="Stop")
    response = call(people["vera"], "get", "/subscribers/numbers")
    assert response.status_code == 200
    numbers = response.json()
    assert numbers["active"] == 1 and numbers["by_status"]["unsubscribed"] == 1
    assert numbers["by_topic"] == {"baustellen": 1} and numbers["by_district"] == {"nord": 1}
    assert numbers["by_language"] == {"de": 1}
    assert ALICE[-7:] not in response.content.decode()


def test_templates_are_listed_with_metas_verdict(call, people):
    Template.objects.create(name="stadt_news", language="de", body="Neues: {{1}}")
    response = call(people["vera"], "get", "/templates")
    assert response.status_code == 200
    assert response.json()[0] | {"status": "draft"} == {
        "name": "stadt_news",
        "language": "de",
        "category": "MARKETING",
        "status": "draft",
        "status_reason": "",
        "body": "Neues: {{1}}",
    }


def test_a_read_only_token_reads_and_changes_nothing(call, people):
    post = actions.create_post(people["erika"], title="Fest", text="Am Samstag")
    assert call(people["erika"], "get", f"/posts/{post.pk}", read_only=True).status_code == 200
    for method, path, body in [
        ("post", "/posts", {"title": "T", "text": "x"}),
        ("patch", f"/posts/{post.pk}", {"title": "X"}),
        ("post", f"/posts/{post.pk}/submit", {}),
    ]:
        response = call(people["erika"], method, path, body, read_only=True)
        assert response.status_code == 403 and "only read" in response.json()["detail"]
    post.refresh_from_db()
    assert (post.title, post.status) == ("Fest", Post.Status.DRAFT)
    assert Post.objects.count() == 1


def test_the_command_makes_a_read_only_token(people):
    out = StringIO()
    call_command("create_api_token", "erika", "--read-only", stdout=out)
    from stadtbote.accounts.tokens import token_for

    found = token_for(out.getvalue().strip())
    assert found is not None and found.read_only and found.user.username == "erika"
    assert AuditEntry.objects.filter(action="api_token.created", details__read_only=True).exists()


def test_the_openapi_document_describes_every_endpoint(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in [
        "/api/v1/posts",
        "/api/v1/posts/{post_id}",
        "/api/v1/posts/{post_id}/schedule",
        "/api/v1/audiences/count",
        "/api/v1/subscribers/numbers",
        "/api/v1/templates",
    ]:
        assert path in paths, path
    assert {"get", "post"} <= set(paths["/api/v1/posts"])
    assert {"get", "patch"} <= set(paths["/api/v1/posts/{post_id}"])
