"""What the tests of the citizen's side share: fixtures' shapes, business messages, files."""

from __future__ import annotations

import base64
import json
import struct
import time
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from whatsapp_emulator.app import create_app
from whatsapp_emulator.emulator import Emulator
from whatsapp_emulator.ids import new_wamid
from whatsapp_emulator.state import ChatMessage

from .support import (
    AUTH,
    BUSINESS_ACCOUNT_ID,
    CITIZEN,
    SEND_PATH,
    Receiver,
    make_config,
    running,
    shared_file,
)

# 2026 username fields (BSUID) that the emulator does not produce yet.
BSUID_FIELDS = {"user_id", "parent_user_id", "from_user_id"}


def shape(value: Any) -> Any:
    """The structure of a JSON value: keys and value types, without the values."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items() if key not in BSUID_FIELDS}
    if isinstance(value, list):
        return [shape(item) for item in value]
    if isinstance(value, bool):
        return "bool"
    # Coordinates are floats in the fixtures; a whole-number one may come out as either.
    return "number" if isinstance(value, int | float) else type(value).__name__


def fixture(name: str, case: str) -> Any:
    return json.loads(shared_file(f"fixtures/pywa/{name}").read_text("utf-8"))[case]


def fixture_message(name: str, case: str) -> dict[str, Any]:
    message: dict[str, Any] = fixture(name, case)["entry"][0]["changes"][0]["value"]["messages"][0]
    return message


def messages_of(hook: Receiver) -> list[dict[str, Any]]:
    return [received.json() for received in hook.delivered if "messages" in received.value()]


def only_message(payload: dict[str, Any]) -> dict[str, Any]:
    [message] = payload["entry"][0]["changes"][0]["value"]["messages"]
    result: dict[str, Any] = message
    return result


@asynccontextmanager
async def phone(**changes: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Emulator]]:
    """A running emulator, with the emulator object for messages the Graph route lacks."""
    app = create_app(make_config(**changes))
    async with running(app) as client:
        yield client, app.state.emulator


async def citizen_sends(
    client: httpx.AsyncClient, body: dict[str, Any], wa_id: str = CITIZEN
) -> dict[str, Any]:
    response = await client.post(f"/_emulator/users/{wa_id}/send", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def chat_message(client: httpx.AsyncClient, message_id: str) -> dict[str, Any]:
    chat = (await client.get(f"/_emulator/users/{CITIZEN}/messages")).json()
    [message] = [message for message in chat["messages"] if message["id"] == message_id]
    found: dict[str, Any] = message
    return found


LIST_INTERACTIVE: dict[str, Any] = {
    "type": "list",
    "header": {"type": "text", "text": "Abfallkalender"},
    "body": {"text": "Für welchen Bezirk möchten Sie Termine?"},
    "footer": {"text": "Stadt Musterstadt"},
    "action": {
        "button": "Bezirk wählen",
        "sections": [
            {
                "title": "Innenstadt",
                "rows": [
                    {"id": "district-1", "title": "Altstadt", "description": "Dienstags"},
                    {"id": "district-2", "title": "Südstadt"},
                ],
            },
            {
                "title": "Außen",
                "rows": [{"id": "district-3", "title": "Durlach", "description": "Freitags"}],
            },
        ],
    },
}


def list_message(to: str = CITIZEN) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "interactive",
        "interactive": LIST_INTERACTIVE,
    }


async def business_list_message(
    client: httpx.AsyncClient, emulator: Emulator, to: str = CITIZEN
) -> str:
    """A list message from the business, through the Graph route once it takes lists.

    Until then it goes into the chat the way an accepted send is recorded, so the citizen's
    side can be tested on its own.
    """
    response = await client.post(SEND_PATH, json=list_message(to), headers=AUTH)
    if response.status_code == 200:
        wamid: str = response.json()["messages"][0]["id"]
        return wamid
    return record_business_message(emulator, to, "interactive", interactive=LIST_INTERACTIVE)


def record_business_message(emulator: Emulator, to: str, kind: str, **fields: Any) -> str:
    """Put a business message straight into a chat (no statuses, no webhook)."""
    message = ChatMessage(
        id=new_wamid(to),
        direction="out",
        timestamp=int(time.time()),
        type=kind,
        status="delivered",
        **fields,
    )
    emulator.state.add_message(emulator.state.user(to), message)
    return message.id


QUICK_REPLY_TEMPLATE: dict[str, Any] = {
    "name": "abfall_erinnerung",
    "language": "de",
    "category": "UTILITY",
    "components": [
        {
            "type": "BODY",
            "text": "Morgen wird in {{1}} die *Biotonne* geleert.",
            "example": {"body_text": [["Durlach"]]},
        },
        {"type": "FOOTER", "text": "Stadt Musterstadt"},
        {
            "type": "BUTTONS",
            "buttons": [
                {"type": "QUICK_REPLY", "text": "Danke"},
                {"type": "QUICK_REPLY", "text": "Abmelden"},
            ],
        },
    ],
}


async def business_template_message(client: httpx.AsyncClient, to: str = CITIZEN) -> str:
    """Create a template with two quick-reply buttons and send it through the Graph routes.

    "Danke" has no payload (a tap answers with its text); "Abmelden" sends payload STOP.
    """
    created = await client.post(
        f"/v23.0/{BUSINESS_ACCOUNT_ID}/message_templates", json=QUICK_REPLY_TEMPLATE, headers=AUTH
    )
    if created.status_code in (404, 405):
        pytest.skip("templates are not emulated yet (no message_templates route)")
    assert created.status_code == 200, created.text
    body = {
        "messaging_product": "whatsapp",
        "to": to,
        "type": "template",
        "template": {
            "name": QUICK_REPLY_TEMPLATE["name"],
            "language": {"code": "de"},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": "Durlach"}]},
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": "1",
                    "parameters": [{"type": "payload", "payload": "STOP"}],
                },
            ],
        },
    }
    response = await client.post(SEND_PATH, json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    wamid: str = response.json()["messages"][0]["id"]
    return wamid


def tiny_png(width: int = 4, height: int = 3, rgb: tuple[int, int, int] = (0, 92, 75)) -> bytes:
    """A valid PNG of one colour, made here so no image file is needed."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
