"""Sending text messages through the Graph route."""

from __future__ import annotations

from typing import Any

import pytest

from .support import AUTH, SEND_PATH, emulator, error_of, text_message

pytestmark = pytest.mark.anyio


async def test_it_accepts_a_text_message_like_meta() -> None:
    async with emulator() as client:
        response = await client.post(
            SEND_PATH, json=text_message(to="+49 170 1234567"), headers=AUTH
        )

    assert response.status_code == 200
    body = response.json()
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": "+49 170 1234567", "wa_id": "491701234567"}]
    [message] = body["messages"]
    assert set(message) == {"id"}
    assert message["id"].startswith("wamid.")


async def test_every_message_gets_its_own_id() -> None:
    async with emulator() as client:
        responses = [
            await client.post(SEND_PATH, json=text_message(), headers=AUTH) for _ in range(20)
        ]

    ids = {response.json()["messages"][0]["id"] for response in responses}
    assert len(ids) == 20


async def test_it_accepts_a_body_of_exactly_4096_characters() -> None:
    async with emulator() as client:
        response = await client.post(SEND_PATH, json=text_message("x" * 4096), headers=AUTH)

    assert response.status_code == 200


async def test_it_rejects_a_body_of_4097_characters() -> None:
    async with emulator() as client:
        response = await client.post(SEND_PATH, json=text_message("x" * 4097), headers=AUTH)

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 100
    assert "text['body']" in error["error_data"]["details"]
    assert "4096" in error["error_data"]["details"]


async def test_it_rejects_an_empty_body() -> None:
    async with emulator() as client:
        response = await client.post(SEND_PATH, json=text_message(""), headers=AUTH)

    assert response.status_code == 400
    assert error_of(response)["code"] == 100


@pytest.mark.parametrize(
    ("field", "mention"), [("to", "to"), ("messaging_product", "messaging_product")]
)
async def test_it_names_a_missing_required_parameter(field: str, mention: str) -> None:
    body = text_message()
    del body[field]
    async with emulator() as client:
        response = await client.post(SEND_PATH, json=body, headers=AUTH)

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 131008
    assert error["message"] == "(#131008) Required parameter is missing"
    assert mention in error["error_data"]["details"]


async def test_it_rejects_another_messaging_product() -> None:
    async with emulator() as client:
        response = await client.post(
            SEND_PATH, json=text_message(messaging_product="telegram"), headers=AUTH
        )

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 100
    assert "messaging_product" in error["error_data"]["details"]


async def test_it_rejects_a_recipient_that_is_not_a_phone_number() -> None:
    async with emulator() as client:
        response = await client.post(SEND_PATH, json=text_message(to="alice"), headers=AUTH)

    assert response.status_code == 400
    assert "to" in error_of(response)["error_data"]["details"]


async def test_it_rejects_sending_to_the_business_number_itself() -> None:
    async with emulator() as client:
        response = await client.post(SEND_PATH, json=text_message(to="4915100000000"), headers=AUTH)

    assert response.status_code == 400
    assert error_of(response)["code"] == 131021


async def test_it_rejects_invalid_json_with_code_100() -> None:
    async with emulator() as client:
        response = await client.post(SEND_PATH, content=b'{"to": ', headers=AUTH)

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 100
    assert error["error_data"]["details"].startswith("The request body is not valid JSON")


@pytest.mark.parametrize("message_type", ["contacts"])
async def test_it_says_clearly_which_types_are_not_emulated_yet(message_type: str) -> None:
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "to": "491701234567",
        "type": message_type,
        message_type: {},
    }
    async with emulator() as client:
        response = await client.post(SEND_PATH, json=body, headers=AUTH)

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 100
    assert (
        f"'{message_type}' is not supported by this emulator version"
        in (error["error_data"]["details"])
    )


async def test_it_logs_every_accepted_send_with_its_request() -> None:
    async with emulator() as client:
        first = await client.post(SEND_PATH, json=text_message("Eins"), headers=AUTH)
        await client.post(SEND_PATH, json=text_message("x" * 5000), headers=AUTH)
        second = await client.post(SEND_PATH, json=text_message("Zwei"), headers=AUTH)
        log = (await client.get("/_emulator/messages")).json()["messages"]

    assert [entry["id"] for entry in log] == [
        first.json()["messages"][0]["id"],
        second.json()["messages"][0]["id"],
    ]
    assert log[0]["body"] == text_message("Eins")
    assert log[0]["wa_id"] == "491701234567"
    assert log[0]["type"] == "text"
