"""Every kind of message a citizen can send arrives in the shape of pywa's fixtures."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest

from .inbound_support import (
    LIST_INTERACTIVE,
    b64,
    business_list_message,
    business_template_message,
    chat_message,
    citizen_sends,
    fixture,
    fixture_message,
    messages_of,
    only_message,
    phone,
    shape,
    tiny_png,
)
from .support import AUTH, CITIZEN, button_message, receiver, send, text_message, wait_until

pytestmark = pytest.mark.anyio

BUSINESS_NUMBER = "4915100000000"


async def one_webhook(body: dict[str, Any] | None, prepare: Any = None) -> tuple[Any, ...]:
    """Send ``body`` (or what ``prepare`` returns) and give the webhook and the chat entry."""
    async with receiver() as hook, phone(webhook_url=hook.url) as (client, emulator):
        if prepare is not None:
            body = await prepare(client, emulator)
        assert body is not None
        answer = await citizen_sends(client, body)
        await wait_until(lambda: len(messages_of(hook)) == 1)
        recorded = await chat_message(client, answer["id"])
    [payload] = messages_of(hook)
    return payload, only_message(payload), recorded, answer


def assert_shaped_like(payload: dict[str, Any], name: str, case: str) -> None:
    assert shape(payload) == shape(fixture(name, case))


async def test_a_forwarded_text_has_the_forwarded_context() -> None:
    payload, message, recorded, _ = await one_webhook(
        {"type": "text", "text": "Schaut mal", "forwarded": True}
    )

    assert_shaped_like(payload, "message.json", "forwarded")
    assert message["context"] == {"forwarded": True}
    assert recorded["forwarded"] is True


async def test_a_text_can_quote_a_business_message() -> None:
    async def prepare(client: Any, emulator: Any) -> dict[str, Any]:
        wamid = await send(client, text_message("Termin am Montag"))
        return {"type": "text", "text": "Passt", "context_id": wamid}

    payload, message, recorded, _ = await one_webhook(None, prepare)

    assert_shaped_like(payload, "message.json", "reply")
    assert message["context"]["from"] == BUSINESS_NUMBER
    assert recorded["context_id"] == message["context"]["id"]


@pytest.mark.parametrize(
    ("case", "row_id", "expected"),
    [
        (
            "description",
            "district-1",
            {"id": "district-1", "title": "Altstadt", "description": "Dienstags"},
        ),
        ("callback", "district-2", {"id": "district-2", "title": "Südstadt"}),
    ],
)
async def test_a_list_row_pick_arrives_like_the_pywa_fixture(
    case: str, row_id: str, expected: dict[str, str]
) -> None:
    wamids: list[str] = []

    async def prepare(client: Any, emulator: Any) -> dict[str, Any]:
        wamids.append(await business_list_message(client, emulator))
        return {"type": "list_reply", "id": row_id, "context_id": wamids[0]}

    payload, message, recorded, _ = await one_webhook(None, prepare)

    assert_shaped_like(payload, "callback_selection.json", case)
    assert message["context"] == {"from": BUSINESS_NUMBER, "id": wamids[0]}
    assert message["interactive"] == {"type": "list_reply", "list_reply": expected}
    assert recorded["interactive"]["list_reply"]["id"] == row_id


async def test_a_list_row_may_name_its_title() -> None:
    async with phone() as (client, emulator):
        wamid = await business_list_message(client, emulator)
        response = await client.post(
            f"/_emulator/users/{CITIZEN}/send",
            json={
                "type": "list_reply",
                "id": "district-3",
                "title": "Durlach",
                "context_id": wamid,
            },
        )

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("tap", "expected"),
    [
        ({"payload": "STOP"}, {"payload": "STOP", "text": "Abmelden"}),
        ({"text": "Abmelden"}, {"payload": "STOP", "text": "Abmelden"}),
        ({"text": "Danke"}, {"payload": "Danke", "text": "Danke"}),
    ],
)
async def test_a_template_quick_reply_arrives_like_the_pywa_fixture(
    tap: dict[str, str], expected: dict[str, str]
) -> None:
    wamids: list[str] = []

    async def prepare(client: Any, emulator: Any) -> dict[str, Any]:
        wamids.append(await business_template_message(client))
        return {"type": "button", "context_id": wamids[0], **tap}

    payload, message, recorded, _ = await one_webhook(None, prepare)

    assert_shaped_like(payload, "callback_button.json", "quick_reply")
    assert message["context"] == {"from": BUSINESS_NUMBER, "id": wamids[0]}
    assert message["button"] == expected
    assert recorded["button"] == expected


@pytest.mark.parametrize(
    ("case", "body"),
    [
        ("image", {"mime_type": "image/png"}),
        ("video", {"mime_type": "video/mp4", "caption": "caption"}),
        ("document", {"mime_type": "application/pdf", "caption": "c", "filename": "Antrag.pdf"}),
        ("audio", {"mime_type": "audio/ogg; codecs=opus"}),
        ("voice", {"mime_type": "audio/ogg; codecs=opus", "voice": True}),
        ("static_sticker", {"mime_type": "image/webp"}),
        ("animated_sticker", {"mime_type": "image/webp", "animated": True}),
    ],
)
async def test_media_arrive_like_the_pywa_fixtures(case: str, body: dict[str, Any]) -> None:
    expected = fixture_message("message.json", case)
    kind = expected["type"]
    data = {"image/png": tiny_png(), "image/webp": b"RIFF\x00\x00\x00\x00WEBPVP8 "}.get(
        body["mime_type"], b"%PDF-1.4 etwas"
    )
    request = {
        "type": kind,
        "media": {"data_base64": b64(data), **body},
        "forwarded": "context" in expected,
    }

    payload, message, recorded, answer = await one_webhook(request)

    assert_shaped_like(payload, "message.json", case)
    media = message[kind]
    assert media["id"] == answer["media_id"]
    assert media["mime_type"] == body["mime_type"]
    assert media["sha256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert recorded["media"] == media
    assert recorded["type"] == kind


async def test_an_image_caption_is_in_the_webhook_and_the_chat() -> None:
    _, message, recorded, _ = await one_webhook(
        {
            "type": "image",
            "media": {
                "data_base64": b64(tiny_png()),
                "mime_type": "image/png",
                "caption": "Schlagloch",
            },
        }
    )

    assert message["image"]["caption"] == "Schlagloch"
    assert recorded["media"]["caption"] == "Schlagloch"


async def test_the_phone_page_can_load_a_sent_photo() -> None:
    png = tiny_png()
    async with phone() as (client, _):
        answer = await citizen_sends(
            client, {"type": "image", "media": {"data_base64": b64(png), "mime_type": "image/png"}}
        )
        response = await client.get(f"/_emulator/media/{answer['media_id']}")
        missing = await client.get("/_emulator/media/123")

    assert response.status_code == 200
    assert response.content == png
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in response.headers["content-security-policy"]
    assert missing.status_code == 404


async def test_the_app_downloads_a_sent_file_through_the_graph_media_route() -> None:
    data = b"%PDF-1.4 Antrag"
    async with phone() as (client, _):
        answer = await citizen_sends(
            client,
            {
                "type": "document",
                "media": {
                    "data_base64": b64(data),
                    "mime_type": "application/pdf",
                    "filename": "a.pdf",
                },
            },
        )
        info = await client.get(f"/v23.0/{answer['media_id']}", headers=AUTH)
        if info.status_code in (404, 405):
            pytest.skip("GET /{version}/{media_id} is not emulated yet")
        assert info.status_code == 200, info.text
        url = info.json()["url"]
        download = await client.get(url, headers=AUTH)

    assert info.json()["id"] == answer["media_id"]
    assert info.json()["mime_type"] == "application/pdf"
    assert download.content == data


@pytest.mark.parametrize(
    ("case", "extra"),
    [
        ("current_location", {}),
        (
            "chosen_location",
            {
                "name": "Rathaus",
                "address": "Marktplatz 1, 76133 Karlsruhe",
                "url": "https://www.karlsruhe.de",
            },
        ),
    ],
)
async def test_a_location_arrives_like_the_pywa_fixture(case: str, extra: dict[str, str]) -> None:
    request = {"type": "location", "latitude": 49.0093, "longitude": 8.4039, "forwarded": True}

    payload, message, recorded, _ = await one_webhook({**request, **extra})

    assert_shaped_like(payload, "message.json", case)
    assert message["location"] == {"latitude": 49.0093, "longitude": 8.4039, **extra}
    assert recorded["location"] == message["location"]


async def test_whole_number_coordinates_are_sent_as_numbers() -> None:
    _, message, _, _ = await one_webhook({"type": "location", "latitude": 0, "longitude": -180})

    assert message["location"] == {"latitude": 0.0, "longitude": -180.0}


@pytest.mark.parametrize(("case", "emoji"), [("reaction", "😮"), ("unreaction_empty", "")])
async def test_a_reaction_arrives_like_the_pywa_fixture(case: str, emoji: str) -> None:
    wamids: list[str] = []

    async def prepare(client: Any, emulator: Any) -> dict[str, Any]:
        wamids.append(await send(client, text_message("Die Bibliothek hat heute offen.")))
        return {"type": "reaction", "message_id": wamids[0], "emoji": emoji}

    payload, message, recorded, _ = await one_webhook(None, prepare)

    assert_shaped_like(payload, "message.json", case)
    assert "context" not in message
    assert message["reaction"] == {"message_id": wamids[0], "emoji": emoji}
    assert recorded["reaction"] == message["reaction"]


async def test_shared_contacts_arrive_like_the_pywa_fixture() -> None:
    cards = fixture_message("message.json", "contacts")["contacts"]

    payload, message, recorded, _ = await one_webhook({"type": "contacts", "contacts": cards})

    assert_shaped_like(payload, "message.json", "contacts")
    assert message["contacts"] == cards
    assert recorded["contacts"] == cards


async def test_the_chat_lists_each_type_with_its_content() -> None:
    async with phone() as (client, emulator):
        list_id = await business_list_message(client, emulator)
        buttons_id = await send(client, button_message([("yes", "Ja")]))
        path = f"/_emulator/users/{CITIZEN}/send"
        for body in [
            {"type": "text", "text": "Hallo"},
            {"type": "button_reply", "id": "yes", "context_id": buttons_id},
            {"type": "list_reply", "id": "district-2", "context_id": list_id},
            {"type": "location", "latitude": 49.0, "longitude": 8.4},
            {"type": "reaction", "message_id": buttons_id, "emoji": "👍"},
        ]:
            assert (await client.post(path, json=body)).status_code == 200
        chat = (await client.get(f"/_emulator/users/{CITIZEN}/messages")).json()

    incoming = [message for message in chat["messages"] if message["direction"] == "in"]
    assert [message["type"] for message in incoming] == [
        "text",
        "interactive",
        "interactive",
        "location",
        "reaction",
    ]
    assert all(message["status"] == "received" for message in incoming)
    outgoing = [message for message in chat["messages"] if message["direction"] == "out"]
    assert outgoing[0]["interactive"]["type"] == LIST_INTERACTIVE["type"]


@pytest.mark.parametrize(("switches", "value"), [([True], "stop"), ([True, False], "resume")])
async def test_the_marketing_switch_sends_the_user_preferences_webhook(
    switches: list[bool], value: str
) -> None:
    def preferences() -> list[dict[str, Any]]:
        return [r.json() for r in hook.delivered if "user_preferences" in r.value()]

    async with receiver() as hook, phone(webhook_url=hook.url) as (client, _):
        await citizen_sends(client, {"type": "text", "text": "Hallo"})
        for stopped in switches:
            response = await client.post(
                f"/_emulator/users/{CITIZEN}/marketing", json={"stopped": stopped}
            )
            assert response.json() == {
                "wa_id": CITIZEN,
                "marketing_stopped": stopped,
                "changed": True,
            }
        await wait_until(lambda: len(preferences()) == len(switches))
        chat = (await client.get(f"/_emulator/users/{CITIZEN}/messages")).json()

    assert chat["marketing_stopped"] is switches[-1]
    payload = preferences()[-1]
    assert shape(payload) == shape(fixture("user_marketing_preferences.json", "resume"))
    [preference] = payload["entry"][0]["changes"][0]["value"]["user_preferences"]
    assert preference["wa_id"] == CITIZEN
    assert preference["value"] == value
    assert preference["category"] == "marketing_messages"


async def test_switching_to_the_same_setting_changes_nothing() -> None:
    async with phone() as (client, _):
        response = await client.post(
            f"/_emulator/users/{CITIZEN}/marketing", json={"stopped": False}
        )

    assert response.status_code == 200
    assert response.json()["changed"] is False


async def test_the_marketing_switch_rejects_anything_but_a_boolean() -> None:
    async with phone() as (client, _):
        for body in [{}, {"stopped": "yes"}, {"stopped": 1}]:
            response = await client.post(f"/_emulator/users/{CITIZEN}/marketing", json=body)
            assert response.status_code == 400
            assert "stopped" in response.json()["error"]


async def test_a_location_names_its_sender_with_profile_name() -> None:
    payload, message, _, _ = await one_webhook(
        {
            "type": "location",
            "latitude": 49.0,
            "longitude": 8.4,
            "name": "Rathaus",
            "profile_name": "Erika Mustermann",
        }
    )

    [contact] = payload["entry"][0]["changes"][0]["value"]["contacts"]
    assert contact["profile"] == {"name": "Erika Mustermann"}
    assert message["location"]["name"] == "Rathaus"
