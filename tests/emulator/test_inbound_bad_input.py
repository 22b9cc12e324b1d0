"""The citizen's side refuses what no phone could send, with a reason a tester understands."""

from __future__ import annotations

from typing import Any

import pytest

from .inbound_support import (
    b64,
    business_list_message,
    business_template_message,
    citizen_sends,
    phone,
    record_business_message,
    tiny_png,
)
from .support import CITIZEN, button_message, send, text_message

pytestmark = pytest.mark.anyio

OTHER = "491709999999"
PNG = b64(tiny_png())


def image(**media: Any) -> dict[str, Any]:
    return {"type": "image", "media": {"data_base64": PNG, "mime_type": "image/png", **media}}


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({}, "type must be one of"),
        ({"type": "poll"}, "'poll'"),
        ({"type": ["text"]}, "type must be one of"),
        ({"type": "text", "text": "Hi", "forwarded": "yes"}, "forwarded must be true or false"),
        ({"type": "text", "text": "Hi", "context_id": "wamid.nope"}, "wamid.nope"),
        # Media
        ({"type": "image"}, "media is required"),
        ({"type": "image", "media": "AAAA"}, "media is required"),
        ({"type": "image", "media": {"data_base64": PNG}}, "mime_type is required"),
        (image(mime_type="image/gif"), "not possible for a image"),
        (image(mime_type="no type"), "mime_type is required"),
        ({"type": "audio", "media": {"data_base64": PNG, "mime_type": "image/png"}}, "audio"),
        (image(data_base64="nicht base64!"), "not valid base64"),
        (image(data_base64=""), "data_base64"),
        (image(data_base64=b64(b"hello")), "not a image/png file"),
        (image(caption="x" * 1025), "caption must be at most 1024"),
        (image(caption="   "), "caption must be a non-empty string"),
        (image(filename="bild.png"), "only a document has a filename"),
        (image(voice=True), "only audio"),
        (image(animated=True), "only a sticker"),
        (
            {
                "type": "audio",
                "media": {"data_base64": b64(b"x"), "mime_type": "audio/mpeg", "caption": "c"},
            },
            "a audio has no caption",
        ),
        (
            {
                "type": "document",
                "media": {"data_base64": b64(b"x"), "mime_type": "text/plain", "filename": "../x"},
            },
            "without folders",
        ),
        ({**image(), "forwarded": "no"}, "forwarded must be true or false"),
        # Location
        ({"type": "location", "longitude": 8.4}, "latitude must be a number"),
        ({"type": "location", "latitude": 49.0}, "longitude must be a number"),
        ({"type": "location", "latitude": "49.0", "longitude": 8.4}, "latitude must be a number"),
        ({"type": "location", "latitude": True, "longitude": 8.4}, "latitude must be a number"),
        ({"type": "location", "latitude": 90.5, "longitude": 8.4}, "between -90 and 90"),
        ({"type": "location", "latitude": 49, "longitude": -181}, "between -180 and 180"),
        ({"type": "location", "latitude": 49, "longitude": 8, "name": "x" * 1001}, "1000"),
        ({"type": "location", "latitude": 49, "longitude": 8, "url": "javascript:x"}, "url"),
        # Reaction
        ({"type": "reaction", "message_id": "wamid.x"}, "emoji is required"),
        ({"type": "reaction", "message_id": "wamid.x", "emoji": "gut"}, "single emoji"),
        ({"type": "reaction", "message_id": "wamid.x", "emoji": "👍 👍"}, "single emoji"),
        ({"type": "reaction", "emoji": "👍"}, "message_id"),
        ({"type": "reaction", "message_id": "wamid.unknown", "emoji": "👍"}, "wamid.unknown"),
        # Taps
        ({"type": "list_reply", "context_id": "wamid.x"}, "id (the row id) is required"),
        ({"type": "list_reply", "id": "a"}, "context_id"),
        ({"type": "button", "context_id": "wamid.x"}, "payload or text"),
        ({"type": "button", "payload": 5, "context_id": "wamid.x"}, "payload must be"),
        ({"type": "button", "payload": "STOP"}, "context_id"),
        # Contacts
        ({"type": "contacts", "contacts": []}, "1 to 20"),
        ({"type": "contacts", "contacts": [{"phones": []}]}, "formatted_name"),
        (
            {"type": "contacts", "contacts": [{"name": {"formatted_name": "A"}, "phones": [{}]}]},
            "phone number",
        ),
    ],
)
async def test_it_rejects_what_a_phone_could_not_send(body: dict[str, Any], complaint: str) -> None:
    async with phone() as (client, _):
        response = await client.post(f"/_emulator/users/{CITIZEN}/send", json=body)
        chat = (await client.get(f"/_emulator/users/{CITIZEN}/messages")).json()

    assert response.status_code == 400
    assert complaint in response.json()["error"]
    assert chat["messages"] == []


@pytest.mark.parametrize("raw", [b"{", b"[]", b"\xff"])
async def test_it_rejects_a_body_that_is_not_a_json_object(raw: bytes) -> None:
    async with phone() as (client, _):
        response = await client.post(f"/_emulator/users/{CITIZEN}/send", content=raw)

    assert response.status_code == 400
    assert response.json()["error"]


@pytest.mark.parametrize(
    ("kind", "mime_type", "limit"),
    [("image", "image/png", 5 * 1024 * 1024), ("sticker", "image/webp", 500 * 1024)],
)
async def test_it_rejects_a_file_over_the_size_limit(kind: str, mime_type: str, limit: int) -> None:
    prefix = tiny_png() if kind == "image" else b"RIFF"
    data = prefix + bytes(limit + 1 - len(prefix))
    async with phone() as (client, _):
        response = await client.post(
            f"/_emulator/users/{CITIZEN}/send",
            json={"type": kind, "media": {"data_base64": b64(data), "mime_type": mime_type}},
        )
        just_fits = await client.post(
            f"/_emulator/users/{CITIZEN}/send",
            json={"type": kind, "media": {"data_base64": b64(data[:-1]), "mime_type": mime_type}},
        )

    assert response.status_code == 400
    assert "too large" in response.json()["error"]
    assert just_fits.status_code == 200, just_fits.text


async def test_it_rejects_a_reaction_to_a_message_of_someone_else() -> None:
    async with phone() as (client, _):
        wamid = await send(client, text_message("Hallo", to=OTHER))
        response = await client.post(
            f"/_emulator/users/{CITIZEN}/send",
            json={"type": "reaction", "message_id": wamid, "emoji": "👍"},
        )

    assert response.status_code == 400
    assert "not a message the business sent to" in response.json()["error"]


async def test_it_rejects_a_reaction_to_the_citizens_own_message() -> None:
    async with phone() as (client, _):
        own = await citizen_sends(client, {"type": "text", "text": "Hallo"})
        response = await client.post(
            f"/_emulator/users/{CITIZEN}/send",
            json={"type": "reaction", "message_id": own["id"], "emoji": "👍"},
        )

    assert response.status_code == 400


async def test_it_rejects_a_reaction_to_a_reaction() -> None:
    async with phone() as (client, emulator):
        reaction = record_business_message(
            emulator, CITIZEN, "reaction", reaction={"message_id": "wamid.x", "emoji": "👍"}
        )
        response = await client.post(
            f"/_emulator/users/{CITIZEN}/send",
            json={"type": "reaction", "message_id": reaction, "emoji": "👍"},
        )

    assert response.status_code == 400
    assert "cannot be reacted to" in response.json()["error"]


async def test_it_rejects_a_forwarded_reply() -> None:
    async with phone() as (client, _):
        wamid = await send(client, text_message("Hallo"))
        response = await client.post(
            f"/_emulator/users/{CITIZEN}/send",
            json={"type": "text", "text": "x", "context_id": wamid, "forwarded": True},
        )

    assert response.status_code == 400
    assert "forwarded" in response.json()["error"]


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({"id": "district-9"}, "no row with id 'district-9'"),
        ({"id": "district-1", "title": "Südstadt"}, "is titled 'Altstadt'"),
    ],
)
async def test_it_rejects_a_pick_the_list_does_not_offer(
    body: dict[str, Any], complaint: str
) -> None:
    async with phone() as (client, emulator):
        wamid = await business_list_message(client, emulator)
        response = await client.post(
            f"/_emulator/users/{CITIZEN}/send",
            json={"type": "list_reply", "context_id": wamid, **body},
        )

    assert response.status_code == 400
    assert complaint in response.json()["error"]


async def test_it_rejects_a_list_pick_on_a_message_without_a_list() -> None:
    async with phone() as (client, _):
        wamid = await send(client, button_message([("district-1", "Altstadt")]))
        response = await client.post(
            f"/_emulator/users/{CITIZEN}/send",
            json={"type": "list_reply", "id": "district-1", "context_id": wamid},
        )
        tap = await client.post(
            f"/_emulator/users/{CITIZEN}/send",
            json={"type": "button_reply", "id": "district-1", "context_id": wamid},
        )

    assert response.status_code == 400
    assert "not a list message" in response.json()["error"]
    assert tap.status_code == 200


async def test_it_rejects_a_button_tap_on_a_list_message() -> None:
    async with phone() as (client, emulator):
        wamid = await business_list_message(client, emulator)
        response = await client.post(
            f"/_emulator/users/{CITIZEN}/send",
            json={"type": "button_reply", "id": "district-1", "context_id": wamid},
        )

    assert response.status_code == 400
    assert "no reply button" in response.json()["error"]


async def test_it_rejects_a_list_pick_on_a_list_sent_to_someone_else() -> None:
    async with phone() as (client, emulator):
        wamid = await business_list_message(client, emulator, to=OTHER)
        response = await client.post(
            f"/_emulator/users/{CITIZEN}/send",
            json={"type": "list_reply", "id": "district-1", "context_id": wamid},
        )

    assert response.status_code == 400


async def test_it_rejects_a_quick_reply_on_a_message_that_is_no_template() -> None:
    async with phone() as (client, _):
        wamid = await send(client, text_message("Hallo"))
        response = await client.post(
            f"/_emulator/users/{CITIZEN}/send",
            json={"type": "button", "payload": "STOP", "context_id": wamid},
        )

    assert response.status_code == 400
    assert "not a template message" in response.json()["error"]


@pytest.mark.parametrize(
    "body",
    [{"payload": "MAYBE"}, {"text": "Vielleicht"}, {"payload": "STOP", "text": "Danke"}],
)
async def test_it_rejects_a_quick_reply_the_template_does_not_have(body: dict[str, Any]) -> None:
    async with phone() as (client, _):
        wamid = await business_template_message(client)
        response = await client.post(
            f"/_emulator/users/{CITIZEN}/send",
            json={"type": "button", "context_id": wamid, **body},
        )

    assert response.status_code == 400
    assert "no quick-reply button" in response.json()["error"]


async def test_it_rejects_a_file_larger_than_the_media_store_keeps() -> None:
    async with phone(media_storage_limit=100) as (client, _):
        response = await client.post(
            f"/_emulator/users/{CITIZEN}/send",
            json={
                "type": "document",
                "media": {"data_base64": b64(bytes(101)), "mime_type": "text/plain"},
            },
        )

    assert response.status_code == 400
    assert "media limit" in response.json()["error"]
