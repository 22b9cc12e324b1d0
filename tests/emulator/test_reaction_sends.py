"""Reactions: one emoji on a message of the chat, "" to take it back."""

from __future__ import annotations

import pytest

from whatsapp_emulator.app import create_app

from .content_support import chat, citizen_writes, message, post
from .support import CITIZEN, emulator, error_of, make_config, running, send, text_message

pytestmark = pytest.mark.anyio


def reaction(message_id: str, emoji: str, to: str = CITIZEN) -> dict[str, object]:
    return message("reaction", {"message_id": message_id, "emoji": emoji}, to=to)


async def test_it_reacts_to_a_message_the_citizen_sent() -> None:
    async with emulator() as client:
        wamid = await citizen_writes(client)
        response = await post(client, reaction(wamid, "👍"))
        messages = await chat(client)

    assert response.status_code == 200
    assert messages[-1]["type"] == "reaction"
    assert messages[-1]["reaction"] == {"message_id": wamid, "emoji": "👍"}


async def test_it_reacts_to_a_message_the_business_sent() -> None:
    async with emulator() as client:
        wamid = await send(client, text_message("Die Bibliothek ist heute geschlossen."))
        response = await post(client, reaction(wamid, "❤️"))

    assert response.status_code == 200


async def test_an_empty_emoji_takes_the_reaction_back() -> None:
    async with emulator() as client:
        wamid = await citizen_writes(client)
        await post(client, reaction(wamid, "😀"))
        response = await post(client, reaction(wamid, ""))
        messages = await chat(client)

    assert response.status_code == 200
    assert messages[-1]["reaction"] == {"message_id": wamid, "emoji": ""}


@pytest.mark.parametrize("emoji", ["👍🏽", "🇩🇪", "👨‍👩‍👧", "❤️‍🔥", "1️⃣", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "☀", "©️"])
async def test_composed_emoji_count_as_one(emoji: str) -> None:
    async with emulator() as client:
        wamid = await citizen_writes(client)
        response = await post(client, reaction(wamid, emoji))

    assert response.status_code == 200, emoji


@pytest.mark.parametrize("emoji", ["👍👍", "ok", "a", "👍 ", "🇩🇪🇫", ":)", "\u200d"])
async def test_it_rejects_anything_but_one_emoji(emoji: str) -> None:
    async with emulator() as client:
        wamid = await citizen_writes(client)
        response = await post(client, reaction(wamid, emoji))

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 100
    assert "reaction['emoji']" in error["error_data"]["details"]


async def test_it_rejects_a_message_id_nobody_sent() -> None:
    async with emulator() as client:
        response = await post(client, reaction("wamid.unbekannt", "👍"))
        messages = await chat(client)

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 131009
    assert "reaction['message_id']" in error["error_data"]["details"]
    assert messages == []


async def test_it_rejects_a_message_of_another_chat() -> None:
    async with emulator() as client:
        wamid = await citizen_writes(client)
        response = await post(client, reaction(wamid, "👍", to="491709999999"))

    assert response.status_code == 400
    assert error_of(response)["code"] == 131009


async def test_it_rejects_reacting_to_a_reaction() -> None:
    async with emulator() as client:
        wamid = await citizen_writes(client)
        first = await post(client, reaction(wamid, "👍"))
        response = await post(client, reaction(first.json()["messages"][0]["id"], "👍"))

    assert response.status_code == 400


async def test_the_emoji_is_required() -> None:
    async with emulator() as client:
        wamid = await citizen_writes(client)
        response = await post(client, message("reaction", {"message_id": wamid}))

    assert response.status_code == 400
    assert error_of(response)["code"] == 131008


async def test_the_recorded_reaction_says_it_gets_only_a_sent_status() -> None:
    app = create_app(make_config())
    async with running(app) as client:
        wamid = await citizen_writes(client)
        response = await post(client, reaction(wamid, "👍"))
        found = app.state.emulator.state.find_message(response.json()["messages"][0]["id"])

    assert found is not None
    assert found[1].is_reaction
    assert found[1].pricing_category == "service"
