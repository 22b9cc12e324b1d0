"""The control API shows chats, users and logs, and can reset everything."""

from __future__ import annotations

import pytest

from .support import (
    AUTH,
    CITIZEN,
    SEND_PATH,
    button_message,
    emulator,
    get_when,
    send,
    text_message,
)

pytestmark = pytest.mark.anyio

OTHER = "491709999999"


async def test_it_reports_health() -> None:
    async with emulator() as client:
        response = await client.get("/_emulator/health")

    assert response.json() == {"ok": True}


async def test_the_chat_lists_both_directions_in_order() -> None:
    async with emulator() as client:
        incoming = await client.post(
            f"/_emulator/users/{CITIZEN}/send", json={"type": "text", "text": "Start"}
        )
        text_id = await send(client, text_message("Willkommen! *Schön*, dass Sie da sind."))
        buttons_id = await send(client, button_message([("yes", "Ja"), ("no", "Nein")]))
        tap = await client.post(
            f"/_emulator/users/{CITIZEN}/send",
            json={"type": "button_reply", "id": "yes", "title": "Ja", "context_id": buttons_id},
        )
        chat = (await client.get(f"/_emulator/users/{CITIZEN}/messages")).json()

    assert chat["wa_id"] == CITIZEN
    messages = chat["messages"]
    assert [(message["id"], message["direction"]) for message in messages] == [
        (incoming.json()["id"], "in"),
        (text_id, "out"),
        (buttons_id, "out"),
        (tap.json()["id"], "in"),
    ]
    assert messages[0] | {"timestamp": 0} == {
        "id": incoming.json()["id"],
        "direction": "in",
        "timestamp": 0,
        "type": "text",
        "text": "Start",
        "status": "received",
    }
    assert messages[1]["text"] == "Willkommen! *Schön*, dass Sie da sind."
    assert messages[1]["status"] in {"accepted", "sent", "delivered"}
    assert messages[2]["interactive"]["action"]["buttons"][0]["reply"] == {
        "id": "yes",
        "title": "Ja",
    }
    assert messages[3]["interactive"] == {
        "type": "button_reply",
        "button_reply": {"id": "yes", "title": "Ja"},
    }
    assert messages[3]["context_id"] == buttons_id


async def test_outgoing_statuses_show_in_the_chat() -> None:
    async with emulator() as client:
        await send(client, text_message())
        path = f"/_emulator/users/{CITIZEN}/messages"
        await get_when(client, path, lambda chat: chat["messages"][0]["status"] == "delivered")
        await client.post(f"/_emulator/users/{CITIZEN}/read")
        chat = (await client.get(path)).json()

    assert chat["messages"][0]["status"] == "read"


async def test_an_unknown_number_has_an_empty_chat_and_is_not_created() -> None:
    async with emulator() as client:
        chat = (await client.get(f"/_emulator/users/{OTHER}/messages")).json()
        users = (await client.get("/_emulator/users")).json()

    assert chat == {"wa_id": OTHER, "name": None, "marketing_stopped": False, "messages": []}
    assert users == {"users": []}


async def test_users_are_listed_with_counts() -> None:
    async with emulator(delivered_delay=30.0) as client:
        await send(client, text_message("Eins"))
        await send(client, text_message("Zwei"))
        await client.post(f"/_emulator/users/{OTHER}/send", json={"type": "text", "text": "Hallo"})
        users = (await client.get("/_emulator/users")).json()["users"]

    assert users == [
        {
            "wa_id": CITIZEN,
            "name": None,
            "messages": 2,
            "incoming": 0,
            "outgoing": 2,
            "unread": 2,
        },
        {
            "wa_id": OTHER,
            "name": "Testperson 9999",
            "messages": 1,
            "incoming": 1,
            "outgoing": 0,
            "unread": 0,
        },
    ]


async def test_the_send_log_proves_who_got_what_how_often() -> None:
    async with emulator() as client:
        for to in (CITIZEN, OTHER, CITIZEN):
            await client.post(SEND_PATH, json=text_message("Nachricht", to=to), headers=AUTH)
        log = (await client.get("/_emulator/messages")).json()["messages"]

    assert [entry["wa_id"] for entry in log] == [CITIZEN, OTHER, CITIZEN]
    assert set(log[0]) == {"id", "timestamp", "phone_number_id", "to", "wa_id", "type", "body"}


async def test_reset_forgets_everything() -> None:
    async with emulator(delivered_delay=30.0) as client:
        await send(client, text_message())
        await client.post(f"/_emulator/users/{OTHER}/send", json={"type": "text", "text": "Hi"})
        reset = await client.post("/_emulator/reset")
        users = (await client.get("/_emulator/users")).json()
        sent = (await client.get("/_emulator/messages")).json()
        webhooks = (await client.get("/_emulator/webhooks")).json()

    assert reset.json() == {"ok": True}
    assert users == {"users": []}
    assert sent == {"messages": []}
    assert webhooks == {"pending": 0, "attempts": []}


async def test_reading_a_chat_without_messages_reads_nothing() -> None:
    async with emulator() as client:
        response = await client.post(f"/_emulator/users/{OTHER}/read")

    assert response.json() == {"read": 0}
