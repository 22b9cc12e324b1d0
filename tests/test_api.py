from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command

from stadtbote.accounts.tokens import create_token
from stadtbote.broadcasts.models import Delivery, Post
from tests.helpers import active_subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(django_user_model):
    user = django_user_model.objects.create(username="editor")
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_post", "change_post", "view_post"])
    )
    return user


@pytest.fixture
def auth(editor) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {create_token(editor)}"}


def test_the_openapi_document_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/posts" in response.json()["paths"]


def test_it_refuses_requests_without_a_token(client):
    assert client.post("/api/v1/posts", {}, content_type="application/json").status_code == 401


@pytest.mark.parametrize("token", ["sbt_wrong", "", "Basic abc", "sbt_"])
def test_it_refuses_a_wrong_token(client, token):
    response = client.get("/api/v1/posts/1", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401


def test_it_refuses_a_token_of_a_deactivated_user(client, editor, auth):
    editor.is_active = False
    editor.save()
    assert client.get("/api/v1/posts/1", **auth).status_code == 401


def test_a_user_without_permission_gets_403(client, django_user_model):
    viewer = django_user_model.objects.create(username="viewer")
    token = create_token(viewer)
    response = client.post(
        "/api/v1/posts",
        {"title": "T", "text": "x"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 403
    assert not Post.objects.exists()


@pytest.fixture
def approver_auth(django_user_model) -> dict[str, str]:
    user = django_user_model.objects.create(username="approver")
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["approve_post", "view_post"])
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {create_token(user)}"}


def test_it_creates_submits_approves_and_counts_a_post(client, auth, approver_auth, monkeypatch):
    monkeypatch.setattr("stadtbote.broadcasts.actions.transaction.on_commit", lambda fn: None)
    active_subscriber()
    response = client.post(
        "/api/v1/posts",
        {"title": "Baustelle", "text": "Gesperrt."},
        content_type="application/json",
        **auth,
    )
    assert response.status_code == 201
    post_id = response.json()["id"]
    assert client.post(f"/api/v1/posts/{post_id}/submit", **auth).json()["status"] == "submitted"
    # The author cannot approve her own post.
    response = client.post(
        f"/api/v1/posts/{post_id}/approve", {}, content_type="application/json", **auth
    )
    assert response.status_code == 403
    response = client.post(
        f"/api/v1/posts/{post_id}/approve", {}, content_type="application/json", **approver_auth
    )
    assert response.status_code == 200
    assert response.json()["status"] == "sending"
    counts = client.get(f"/api/v1/posts/{post_id}/deliveries", **auth).json()
    assert counts["total"] == 1
    assert counts["queued"] == 1
    again = client.post(
        f"/api/v1/posts/{post_id}/approve", {}, content_type="application/json", **approver_auth
    )
    assert again.status_code == 409
    assert Delivery.objects.count() == 1


@pytest.mark.parametrize(
    "body", [{}, {"title": "", "text": "x"}, {"title": "T", "text": "x" * 4097}, {"title": "T"}]
)
def test_it_refuses_an_invalid_post_with_422(client, auth, body):
    response = client.post("/api/v1/posts", body, content_type="application/json", **auth)
    assert response.status_code == 422
    assert not Post.objects.exists()


def test_it_refuses_malformed_json(client, auth):
    response = client.post("/api/v1/posts", "{not json", content_type="application/json", **auth)
    assert response.status_code in (400, 422)


def test_unknown_posts_are_404(client, auth):
    assert client.get("/api/v1/posts/999", **auth).status_code == 404
    assert client.post("/api/v1/posts/999/submit", **auth).status_code == 404


def test_the_command_prints_a_working_token(client, editor, capsys):
    call_command("create_api_token", "editor")
    token = capsys.readouterr().out.strip()
    assert client.get("/api/v1/posts/1", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 404


def test_the_command_refuses_an_unknown_user():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("create_api_token", "nobody")


def test_a_post_can_be_targeted_by_topic_and_district_slugs(client, auth):
    from stadtbote.subscribers.models import District, Topic

    Topic.objects.create(name="Bau", slug="bau")
    District.objects.create(name="Nord", slug="nord")
    response = client.post(
        "/api/v1/posts",
        {"title": "T", "text": "x", "topics": ["bau"], "districts": ["nord"]},
        content_type="application/json",
        **auth,
    )
    assert response.status_code == 201
    assert (response.json()["topics"], response.json()["districts"]) == (["bau"], ["nord"])


def test_an_unknown_topic_is_refused_with_the_reason(client, auth):
    response = client.post(
        "/api/v1/posts",
        {"title": "T", "text": "x", "topics": ["nope"]},
        content_type="application/json",
        **auth,
    )
    assert response.status_code == 409
    assert response.json() == {"detail": "Unknown topic: nope."}
    assert not Post.objects.exists()
