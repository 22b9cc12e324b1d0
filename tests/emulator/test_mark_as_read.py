"""The business marks a citizen's message as read through the Graph route."""

from __future__ import annotations

import pytest

from .support import AUTH, CITIZEN, SEND_PATH, emulator, error_of, text_message

pytestmark = pytest.mark.anyio


async def test_it_marks_a_received_message_as_read() -> None:
    async with emulator() as client:
        sent = await client.post(
            f"/_emulator/users/{CITIZEN}/send", json={"type": "text", "text": "Hi"}
        )
        wamid = sent.json()["id"]
        response = await client.post(
            SEND_PATH,
            json={"messaging_product": "whatsapp", "status": "read", "message_id": wamid},
            headers=AUTH,
        )
        chat = (await client.get(f"/_emulator/users/{CITIZEN}/messages")).json()

    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert chat["messages"][0]["status"] == "read"


async def test_it_accepts_a_typing_indicator_with_the_read_receipt() -> None:
    async with emulator() as client:
        sent = await client.post(
            f"/_emulator/users/{CITIZEN}/send", json={"type": "text", "text": "Hi"}
        )
        response = await client.post(
            SEND_PATH,
            json={
                "messaging_product": "whatsapp",
                "status": "read",
                "message_id": sent.json()["id"],
                "typing_indicator": {"type": "text"},
            },
            headers=AUTH,
        )

    assert response.json() == {"success": True}


async def test_it_rejects_marking_an_unknown_message() -> None:
    async with emulator() as client:
        response = await client.post(
            SEND_PATH,
            json={"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.nope"},
            headers=AUTH,
        )

    assert response.status_code == 400
    assert error_of(response)["code"] == 100


async def test_it_rejects_marking_the_business_own_message() -> None:
    async with emulator() as client:
        own = await client.post(SEND_PATH, json=text_message(), headers=AUTH)
        response = await client.post(
            SEND_PATH,
            json={
                "messaging_product": "whatsapp",
                "status": "read",
                "message_id": own.json()["messages"][0]["id"],
            },
            headers=AUTH,
        )

    assert response.status_code == 400
