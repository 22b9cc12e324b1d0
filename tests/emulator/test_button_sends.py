"""Interactive reply-button messages and their limits from Meta's OpenAPI."""

from __future__ import annotations

import pytest

from .support import AUTH, SEND_PATH, button_message, emulator, error_of

pytestmark = pytest.mark.anyio


async def test_it_accepts_three_buttons_with_header_and_footer() -> None:
    body = button_message([("yes", "Ja"), ("no", "Nein"), ("later", "Später")])
    body["interactive"]["header"] = {"type": "text", "text": "Stadt Musterstadt"}
    body["interactive"]["footer"] = {"text": "Antworten Sie STOP zum Abmelden"}
    async with emulator() as client:
        response = await client.post(SEND_PATH, json=body, headers=AUTH)
        chat = (await client.get("/_emulator/users/491701234567/messages")).json()

    assert response.status_code == 200
    [message] = chat["messages"]
    assert message["type"] == "interactive"
    assert message["interactive"] == body["interactive"]


async def test_it_rejects_four_buttons() -> None:
    body = button_message([(f"id{n}", f"Knopf {n}") for n in range(4)])
    async with emulator() as client:
        response = await client.post(SEND_PATH, json=body, headers=AUTH)

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 131009
    assert "buttons" in error["error_data"]["details"]


async def test_it_rejects_no_buttons() -> None:
    async with emulator() as client:
        response = await client.post(SEND_PATH, json=button_message([]), headers=AUTH)

    assert response.status_code == 400
    assert error_of(response)["code"] == 131009


async def test_it_accepts_a_title_of_20_characters() -> None:
    async with emulator() as client:
        response = await client.post(
            SEND_PATH, json=button_message([("a", "x" * 20)]), headers=AUTH
        )

    assert response.status_code == 200


async def test_it_rejects_a_title_of_21_characters() -> None:
    async with emulator() as client:
        response = await client.post(
            SEND_PATH, json=button_message([("a", "x" * 21)]), headers=AUTH
        )

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 131009
    assert error["error_data"]["details"] == (
        "Button title length invalid. Min length: 1, Max length: 20"
    )


async def test_it_rejects_duplicate_button_ids() -> None:
    body = button_message([("same", "Ja"), ("same", "Nein")])
    async with emulator() as client:
        response = await client.post(SEND_PATH, json=body, headers=AUTH)

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 131009
    assert error["message"] == "(#131009) Parameter value is not valid"
    assert error["error_data"] == {
        "messaging_product": "whatsapp",
        "details": "Duplicate button id",
    }


async def test_it_rejects_a_button_id_longer_than_256_characters() -> None:
    async with emulator() as client:
        response = await client.post(
            SEND_PATH, json=button_message([("i" * 257, "Ja")]), headers=AUTH
        )

    assert response.status_code == 400
    assert error_of(response)["code"] == 131009


async def test_it_rejects_a_body_text_longer_than_1024_characters() -> None:
    async with emulator() as client:
        response = await client.post(
            SEND_PATH, json=button_message([("a", "Ja")], body="x" * 1025), headers=AUTH
        )

    assert response.status_code == 400
    assert "interactive['body']['text']" in error_of(response)["error_data"]["details"]


async def test_it_requires_a_body_text() -> None:
    body = button_message([("a", "Ja")])
    del body["interactive"]["body"]
    async with emulator() as client:
        response = await client.post(SEND_PATH, json=body, headers=AUTH)

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 131008
    assert "interactive['body']" in error["error_data"]["details"]


async def test_it_rejects_a_header_longer_than_60_characters() -> None:
    body = button_message([("a", "Ja")])
    body["interactive"]["header"] = {"type": "text", "text": "x" * 61}
    async with emulator() as client:
        response = await client.post(SEND_PATH, json=body, headers=AUTH)

    assert response.status_code == 400
    assert "interactive['header']['text']" in error_of(response)["error_data"]["details"]


async def test_it_says_that_flow_messages_are_not_emulated_yet() -> None:
    body = button_message([("a", "Ja")])
    body["interactive"]["type"] = "flow"
    async with emulator() as client:
        response = await client.post(SEND_PATH, json=body, headers=AUTH)

    assert response.status_code == 400
    assert (
        "'flow' is not supported by this emulator version"
        in (error_of(response)["error_data"]["details"])
    )
