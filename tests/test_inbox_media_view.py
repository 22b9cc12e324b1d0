"""The files citizens sent, served to staff who may read messages: with the stored type,
never sniffed, images shown and everything else downloaded under a generic name, never
cached, and nothing outside the media directory."""

from __future__ import annotations

import pytest
from django.conf import settings

from stadtbote.inbox.models import Message
from tests.conftest import BACKEND
from tests.inbox_pages import PNG, citizen, stored_photo, writes

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(as_, people):
    return as_(people["gerd"])


@pytest.fixture
def conversation():
    return writes(citizen(), "Foto anbei").conversation


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_photo_is_shown_inline_and_not_cached(agent, conversation):
    photo = stored_photo(conversation)
    response = agent.get(f"/posteingang/medien/{photo.pk}/")
    assert response.status_code == 200
    assert _body(response) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == "inline"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize(
    ("mime", "extension"),
    [
        ("application/pdf", ".pdf"),
        ("image/svg+xml", ".svg"),  # may carry script: downloaded, not shown
        ("text/html", ".html"),
        ("audio/ogg; codecs=opus", ".oga"),
        ("nonsense", ".bin"),
        ("", ".bin"),
    ],
)
def test_anything_else_is_downloaded_under_a_generic_name(agent, conversation, mime, extension):
    message = stored_photo(
        conversation, content=b"%PDF-1.4 ...", mime_type=mime, kind=Message.Kind.DOCUMENT
    )
    response = agent.get(f"/posteingang/medien/{message.pk}/")
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"stadtbote-{message.pk}" in disposition and "Mustermann" not in disposition
    assert disposition.endswith(f'{extension}"') or extension in disposition
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    if not mime or mime == "nonsense":
        assert response["Content-Type"] == "application/octet-stream"


@pytest.mark.parametrize(
    "state", [Message.MediaState.PENDING, Message.MediaState.FAILED, Message.MediaState.DELETED]
)
def test_a_file_that_is_not_stored_is_not_found(agent, conversation, state):
    photo = stored_photo(conversation)
    Message.objects.filter(pk=photo.pk).update(media_state=state)
    assert agent.get(f"/posteingang/medien/{photo.pk}/").status_code == 404


def test_a_missing_file_or_a_text_message_is_not_found(agent, conversation):
    photo = stored_photo(conversation)
    (settings.INBOX_MEDIA_DIR / photo.file).unlink()
    assert agent.get(f"/posteingang/medien/{photo.pk}/").status_code == 404
    text = conversation.messages.get(kind=Message.Kind.TEXT)
    assert agent.get(f"/posteingang/medien/{text.pk}/").status_code == 404


@pytest.mark.parametrize(
    "name",
    [
        "../secret.txt",
        "../../etc/passwd",
        "/etc/passwd",
        "a/../../secret.txt",
        ".",
        # PostgreSQL cannot even store it; SQLite can.
        pytest.param("x\x00y", marks=pytest.mark.skipif(BACKEND == "postgres", reason="no NUL")),
    ],
)
def test_a_name_leading_out_of_the_media_directory_is_not_served(
    agent, conversation, tmp_path, name
):
    secret = settings.INBOX_MEDIA_DIR.parent / "secret.txt"
    secret.write_text("geheim")
    photo = stored_photo(conversation)
    Message.objects.filter(pk=photo.pk).update(file=name)
    assert agent.get(f"/posteingang/medien/{photo.pk}/").status_code == 404


def test_only_who_may_read_messages_gets_a_file(client, as_, people, conversation):
    photo = stored_photo(conversation)
    for name in ("ida", "erika", "vera", "dora"):
        assert as_(people[name]).get(f"/posteingang/medien/{photo.pk}/").status_code == 403
    client.logout()
    assert client.get(f"/posteingang/medien/{photo.pk}/").status_code == 302
    assert as_(people["gerd"]).post(f"/posteingang/medien/{photo.pk}/").status_code == 405
