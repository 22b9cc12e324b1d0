"""Image, document, audio, video and sticker messages, by uploaded media id or by link."""

from __future__ import annotations

import pytest

from .content_support import PDF, PNG, chat, message, post, upload_id
from .support import AUTH, emulator, error_of

pytestmark = pytest.mark.anyio


async def test_it_sends_an_uploaded_image_with_a_caption() -> None:
    async with emulator() as client:
        media_id = await upload_id(client)
        response = await post(
            client, message("image", {"id": media_id, "caption": "Neues Rathaus"})
        )
        [sent] = await chat(client)

    assert response.status_code == 200
    assert response.json()["messages"][0]["id"] == sent["id"]
    assert sent["type"] == "image"
    assert sent["media"]["id"] == media_id
    assert sent["media"]["caption"] == "Neues Rathaus"
    assert sent["media"]["mime_type"] == "image/png"


async def test_it_sends_an_image_by_https_link() -> None:
    async with emulator() as client:
        response = await post(client, message("image", {"link": "https://example.org/a.jpg"}))
        [sent] = await chat(client)

    assert response.status_code == 200
    assert sent["media"] == {"link": "https://example.org/a.jpg"}


async def test_it_sends_a_document_with_its_filename() -> None:
    async with emulator() as client:
        media_id = await upload_id(client, PDF, "application/pdf", "amtsblatt.pdf")
        response = await post(
            client,
            message(
                "document",
                {"id": media_id, "filename": "Amtsblatt 12.pdf", "caption": "Ausgabe 12"},
            ),
        )
        [sent] = await chat(client)

    assert response.status_code == 200
    assert sent["media"]["filename"] == "Amtsblatt 12.pdf"
    assert sent["media"]["caption"] == "Ausgabe 12"


@pytest.mark.parametrize(
    ("kind", "data", "mime_type"),
    [
        ("audio", b"ID3" + bytes(100), "audio/mpeg"),
        ("video", bytes(200), "video/mp4"),
        ("sticker", b"RIFF" + bytes(60) + b"WEBP", "image/webp"),
    ],
)
async def test_it_sends_audio_video_and_stickers_by_id(
    kind: str, data: bytes, mime_type: str
) -> None:
    async with emulator() as client:
        media_id = await upload_id(client, data, mime_type, f"datei.{kind}")
        response = await post(client, message(kind, {"id": media_id}))
        [sent] = await chat(client)

    assert response.status_code == 200
    assert sent["type"] == kind


async def test_it_rejects_both_id_and_link() -> None:
    async with emulator() as client:
        media_id = await upload_id(client)
        response = await post(
            client, message("image", {"id": media_id, "link": "https://example.org/a.jpg"})
        )

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 100
    assert "image" in error["error_data"]["details"]


async def test_it_requires_an_id_or_a_link() -> None:
    async with emulator() as client:
        response = await post(client, message("image", {"caption": "ohne Bild"}))

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 131008
    assert "image['id'] or image['link']" in error["error_data"]["details"]


@pytest.mark.parametrize(
    "link", ["ftp://example.org/a.jpg", "file:///etc/passwd", "example.org/a.jpg", "https://"]
)
async def test_it_accepts_only_http_and_https_links(link: str) -> None:
    async with emulator() as client:
        response = await post(client, message("document", {"link": link}))

    assert response.status_code == 400
    assert "document['link']" in error_of(response)["error_data"]["details"]


async def test_it_rejects_an_id_that_was_never_uploaded() -> None:
    async with emulator() as client:
        response = await post(client, message("image", {"id": "1234567890123456"}))
        messages = await chat(client)

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 131009
    assert "1234567890123456" in error["error_data"]["details"]
    assert messages == []


async def test_it_rejects_a_pdf_sent_as_image() -> None:
    async with emulator() as client:
        media_id = await upload_id(client, PDF, "application/pdf", "a.pdf")
        response = await post(client, message("image", {"id": media_id}))

    assert response.status_code == 400
    assert "application/pdf" in error_of(response)["error_data"]["details"]


async def test_an_image_may_go_out_as_a_document() -> None:
    async with emulator() as client:
        media_id = await upload_id(client, PNG, "image/png", "plan.png")
        response = await post(client, message("document", {"id": media_id}))

    assert response.status_code == 200


async def test_it_accepts_a_caption_of_1024_characters() -> None:
    async with emulator() as client:
        response = await post(
            client, message("image", {"link": "https://example.org/a.png", "caption": "x" * 1024})
        )

    assert response.status_code == 200


async def test_it_rejects_a_caption_of_1025_characters() -> None:
    async with emulator() as client:
        response = await post(
            client, message("image", {"link": "https://example.org/a.png", "caption": "x" * 1025})
        )

    assert response.status_code == 400
    details = error_of(response)["error_data"]["details"]
    assert "image['caption']" in details
    assert "1024" in details


@pytest.mark.parametrize("kind", ["audio", "sticker"])
async def test_audio_and_stickers_take_no_caption(kind: str) -> None:
    async with emulator() as client:
        response = await post(
            client, message(kind, {"link": "https://example.org/f", "caption": "x"})
        )

    assert response.status_code == 400
    assert f"{kind}['caption']" in error_of(response)["error_data"]["details"]


async def test_only_documents_take_a_filename() -> None:
    async with emulator() as client:
        response = await post(
            client, message("image", {"link": "https://example.org/a.png", "filename": "a.png"})
        )

    assert response.status_code == 400
    assert "image['filename']" in error_of(response)["error_data"]["details"]


async def test_a_deleted_upload_can_no_longer_be_sent() -> None:
    async with emulator() as client:
        media_id = await upload_id(client)
        deleted = await client.delete(f"/v23.0/{media_id}", headers=AUTH)
        response = await post(client, message("image", {"id": media_id}))

    assert deleted.json() == {"success": True}
    assert response.status_code == 400
    assert error_of(response)["code"] == 131009
