"""A simulated citizen writes or taps a button; the app gets Meta's message webhook."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .support import (
    CITIZEN,
    PHONE_NUMBER_ID,
    Receiver,
    button_message,
    emulator,
    receiver,
    send,
    shared_file,
    wait_until,
)

pytestmark = pytest.mark.anyio

# 2026 username fields (BSUID) that the emulator does not produce yet.
BSUID_FIELDS = {"user_id", "parent_user_id", "from_user_id"}


def shape(value: Any) -> Any:
    """The structure of a JSON value: keys and value types, without the values."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items() if key not in BSUID_FIELDS}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


def fixture(name: str, case: str) -> Any:
    return json.loads(shared_file(f"fixtures/pywa/{name}").read_text("utf-8"))[case]


def messages_of(hook: Receiver) -> list[dict[str, Any]]:
    return [received.json() for received in hook.delivered if "messages" in received.value()]


async def test_a_text_from_the_citizen_arrives_like_the_pywa_fixture() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url) as client:
        response = await client.post(
            f"/_emulator/users/{CITIZEN}/send",
            json={"type": "text", "text": "Start", "name": "Erika Mustermann"},
        )
        await wait_until(lambda: len(messages_of(hook)) == 1)

    [payload] = messages_of(hook)
    assert shape(payload) == shape(fixture("message.json", "text"))
    value = payload["entry"][0]["changes"][0]["value"]
    assert value["contacts"] == [{"profile": {"name": "Erika Mustermann"}, "wa_id": CITIZEN}]
    [message] = value["messages"]
    assert message["id"] == response.json()["id"]
    assert message["from"] == CITIZEN
    assert message["text"] == {"body": "Start"}
    assert message["timestamp"].isdigit()
    assert value["metadata"]["phone_number_id"] == PHONE_NUMBER_ID


async def test_a_button_tap_arrives_like_the_pywa_fixture() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url) as client:
        wamid = await send(client, button_message([("subscribe", "Ja, gerne"), ("no", "Nein")]))
        response = await client.post(
            f"/_emulator/users/{CITIZEN}/send",
            json={"type": "button_reply", "id": "subscribe", "context_id": wamid},
        )
        await wait_until(lambda: len(messages_of(hook)) == 1)

    assert response.status_code == 200
    [payload] = messages_of(hook)
    assert shape(payload) == shape(fixture("callback_button.json", "button"))
    [message] = payload["entry"][0]["changes"][0]["value"]["messages"]
    assert message["context"] == {"from": "4915100000000", "id": wamid}
    assert message["interactive"] == {
        "type": "button_reply",
        "button_reply": {"id": "subscribe", "title": "Ja, gerne"},
    }


async def test_umlauts_and_emoji_arrive_unescaped_and_correctly_signed() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url) as client:
        await client.post(
            f"/_emulator/users/{CITIZEN}/send", json={"type": "text", "text": "Grüße 👋"}
        )
        await wait_until(lambda: len(messages_of(hook)) == 1)

    [received] = hook.delivered
    assert "Grüße 👋".encode() in received.body


async def test_the_citizen_keeps_a_profile_name_once_given() -> None:
    async with emulator() as client:
        path = f"/_emulator/users/{CITIZEN}/send"
        await client.post(path, json={"type": "text", "text": "Eins"})
        await client.post(path, json={"type": "text", "text": "Zwei", "name": "Erika"})
        await client.post(path, json={"type": "text", "text": "Drei"})
        users = (await client.get("/_emulator/users")).json()["users"]

    assert users[0]["name"] == "Erika"


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({"type": "image"}, "type"),
        ({"type": "text", "text": ""}, "text"),
        ({"type": "text"}, "text"),
        ({"type": "text", "text": "x" * 4097}, "4096"),
        ({"type": "text", "text": "Hi", "name": 7}, "name"),
        ({"type": "button_reply", "id": "yes"}, "context_id"),
        ({"type": "button_reply", "context_id": "wamid.x"}, "id"),
        ({"type": "button_reply", "id": "yes", "context_id": "wamid.unknown"}, "wamid.unknown"),
    ],
)
async def test_it_rejects_input_a_phone_could_not_send(
    body: dict[str, Any], complaint: str
) -> None:
    async with emulator() as client:
        response = await client.post(f"/_emulator/users/{CITIZEN}/send", json=body)

    assert response.status_code == 400
    assert complaint in response.json()["error"]


async def test_it_rejects_a_tap_on_a_button_the_message_does_not_have() -> None:
    async with emulator() as client:
        wamid = await send(client, button_message([("yes", "Ja")]))
        response = await client.post(
            f"/_emulator/users/{CITIZEN}/send",
            json={"type": "button_reply", "id": "maybe", "context_id": wamid},
        )

    assert response.status_code == 400
    assert "maybe" in response.json()["error"]


async def test_it_rejects_a_tap_on_a_message_sent_to_someone_else() -> None:
    async with emulator() as client:
        wamid = await send(client, button_message([("yes", "Ja")]))
        response = await client.post(
            "/_emulator/users/491709999999/send",
            json={"type": "button_reply", "id": "yes", "context_id": wamid},
        )

    assert response.status_code == 400


async def test_it_rejects_a_number_that_is_not_digits() -> None:
    async with emulator() as client:
        response = await client.post(
            "/_emulator/users/+49170/send", json={"type": "text", "text": "Hi"}
        )

    assert response.status_code == 400
    assert "digits" in response.json()["error"]
