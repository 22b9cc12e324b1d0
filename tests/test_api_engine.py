"""The API around a post's sending: image upload, preview, audience and cost, funnel, and the
WhatsApp Channel outlet; with the wrong, the malformed, the too large and the unauthorized."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from stadtbote.accounts.tokens import create_token
from stadtbote.broadcasts import actions
from stadtbote.broadcasts.models import Post
from tests.engine_support import approver, dispatch_all, editor, network, template  # noqa: F401
from tests.helpers import ALICE, BOB, active_subscriber
from tests.test_post_content import picture

pytestmark = pytest.mark.django_db


@pytest.fixture
def auth(editor) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {create_token(editor)}"}


@pytest.fixture
def nobody(django_user_model) -> dict[str, str]:
    user = django_user_model.objects.create(username="nobody")
    return {"HTTP_AUTHORIZATION": f"Bearer {create_token(user)}"}


def _create(client, auth, **extra):
    body = {"title": "Fest", "text": "Am *Samstag* ist Stadtfest."} | extra
    return client.post("/api/v1/posts", body, content_type="application/json", **auth)


def test_a_post_is_created_with_language_link_and_sharing(client, auth):
    response = _create(client, auth, language="en", link="https://x.example/a", share_footer=False)
    assert response.status_code == 201
    body = response.json()
    assert (body["language"], body["link"], body["share_footer"]) == (
        "en",
        "https://x.example/a",
        False,
    )
    assert body["has_image"] is False


@pytest.mark.parametrize(
    ("extra", "status"),
    [
        ({"language": "fr"}, 409),
        ({"link": "javascript:alert(1)"}, 409),
        ({"language": "deutsch"}, 422),
        ({"share_footer": "maybe"}, 422),
    ],
)
def test_bad_fields_are_refused_with_a_reason(client, auth, extra, status):
    response = _create(client, auth, **extra)
    assert response.status_code == status
    assert not Post.objects.exists()


def test_an_image_is_uploaded_to_a_draft(client, auth):
    post_id = _create(client, auth).json()["id"]
    upload = SimpleUploadedFile("bild.png", picture(), content_type="image/png")
    response = client.post(f"/api/v1/posts/{post_id}/image", {"image": upload}, **auth)
    assert response.status_code == 200
    assert response.json()["has_image"] is True


def test_a_wrong_or_too_large_image_is_refused(client, auth):
    post_id = _create(client, auth).json()["id"]
    wrong = SimpleUploadedFile("bild.png", b"<svg/>", content_type="image/png")
    response = client.post(f"/api/v1/posts/{post_id}/image", {"image": wrong}, **auth)
    assert response.status_code == 409
    assert "not an image" in response.json()["detail"]
    big = SimpleUploadedFile("bild.png", b"\0" * (5 * 1024 * 1024 + 1), content_type="image/png")
    response = client.post(f"/api/v1/posts/{post_id}/image", {"image": big}, **auth)
    assert response.status_code == 413
    assert client.post(f"/api/v1/posts/{post_id}/image", {}, **auth).status_code == 422


def test_preview_audience_and_funnel(client, auth, editor, template, network):
    active_subscriber(ALICE)
    active_subscriber(BOB, wrote_just_now=False)
    post_id = _create(client, auth).json()["id"]

    preview = client.get(f"/api/v1/posts/{post_id}/preview", **auth).json()
    assert "<strong>Samstag</strong>" in preview["html"]
    assert preview["template_text"].startswith("Neues aus der Stadt:")

    audience = client.get(f"/api/v1/posts/{post_id}/audience", **auth).json()
    assert (audience["recipients"], audience["free"], audience["charged"]) == (2, 1, 1)
    assert audience["estimated_cost"] == "0.11"
    assert audience["budget"]["warning"] is None

    actions.send_post(Post.objects.get(pk=post_id))
    dispatch_all()
    funnel = client.get(f"/api/v1/posts/{post_id}/funnel", **auth).json()
    assert (funnel["total"], funnel["sent"], funnel["queued"]) == (2, 2, 0)
    assert funnel["progress"] == 1.0
    assert funnel["subscriptions_brought"] == 0


def test_the_channel_outlet_over_the_api(client, auth, editor, approver, template):
    post = actions.submit(actions.create_post(editor, title="Fest", text="Stadtfest."), editor)
    url = f"/api/v1/posts/{post.pk}/channel"
    assert client.get(url, **auth).json()["copy_text"] == "*Fest*\n\nStadtfest."
    assert client.post(url, {}, content_type="application/json", **auth).status_code == 409
    actions.approve(post, approver)
    response = client.post(url, {}, content_type="application/json", **auth)
    assert response.status_code == 201
    assert response.json()["posted"] is True
    assert client.post(url, {}, content_type="application/json", **auth).status_code == 409
    counts = {"followers": 1500, "reactions": 42}
    response = client.put(f"{url}/counts", counts, content_type="application/json", **auth)
    assert (response.json()["followers"], response.json()["reactions"]) == (1500, 42)
    bad = {"followers": -5}
    assert (
        client.put(f"{url}/counts", bad, content_type="application/json", **auth).status_code == 422
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "preview"),
        ("get", "audience"),
        ("get", "funnel"),
        ("get", "channel"),
        ("post", "channel"),
    ],
)
def test_someone_without_rights_sees_nothing(client, editor, nobody, method, path):
    post = actions.create_post(editor, title="Fest", text="Stadtfest.")
    call = getattr(client, method)
    response = call(f"/api/v1/posts/{post.pk}/{path}", content_type="application/json", **nobody)
    assert response.status_code == 403


def test_an_unknown_post_is_404(client, auth):
    for path in ("preview", "audience", "funnel", "channel"):
        assert client.get(f"/api/v1/posts/424242/{path}", **auth).status_code == 404
