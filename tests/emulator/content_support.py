"""What the tests of media, locations, reactions, lists and templates share."""

from __future__ import annotations

from typing import Any

import httpx

from .support import AUTH, BUSINESS_ACCOUNT_ID, CITIZEN, PHONE_NUMBER_ID, SEND_PATH

MEDIA_PATH = f"/v23.0/{PHONE_NUMBER_ID}/media"
TEMPLATES_PATH = f"/v23.0/{BUSINESS_ACCOUNT_ID}/message_templates"
CHAT_PATH = f"/_emulator/users/{CITIZEN}/messages"

# The smallest files that start like the real thing; the emulator trusts the declared type.
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
PDF = b"%PDF-1.4\n% Amtsblatt\n" + b"\r\n".join(b"line %d" % n for n in range(50))


def message(message_type: str, content: Any, to: str = CITIZEN, **extra: Any) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": message_type,
        message_type: content,
        **extra,
    }


async def post(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await client.post(SEND_PATH, json=body, headers=AUTH)


async def upload(
    client: httpx.AsyncClient,
    data: bytes = PNG,
    mime_type: str = "image/png",
    filename: str = "bild.png",
) -> httpx.Response:
    return await client.post(
        MEDIA_PATH,
        files={
            "file": (filename, data, mime_type),
            "type": (None, mime_type),
            "messaging_product": (None, "whatsapp"),
        },
        headers=AUTH,
    )


async def upload_id(
    client: httpx.AsyncClient,
    data: bytes = PNG,
    mime_type: str = "image/png",
    filename: str = "bild.png",
) -> str:
    response = await upload(client, data, mime_type, filename)
    assert response.status_code == 200, response.text
    media_id: str = response.json()["id"]
    return media_id


async def chat(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = (await client.get(CHAT_PATH)).json()["messages"]
    return messages


async def citizen_writes(client: httpx.AsyncClient, text: str = "Hallo Stadt") -> str:
    """A message from the citizen, for reactions and replies; returns its wamid."""
    response = await client.post(
        f"/_emulator/users/{CITIZEN}/send", json={"type": "text", "text": text}
    )
    assert response.status_code == 200, response.text
    wamid: str = response.json()["id"]
    return wamid


def template_definition(
    name: str = "abfallkalender",
    language: str = "de",
    category: str = "UTILITY",
    body: str = "Hallo {{1}}, morgen wird im {{2}} die {{3}} abgeholt.",
    examples: list[str] | None = None,
    *,
    header: str | None = None,
    footer: str | None = None,
    quick_replies: list[str] | None = None,
    url: str | None = None,
) -> dict[str, Any]:
    """A creation request like Meta's template examples; positional variables."""
    body_component: dict[str, Any] = {"type": "BODY", "text": body}
    count = body.count("{{")
    if count:
        body_component["example"] = {
            "body_text": [examples or [f"Beispiel {n}" for n in range(1, count + 1)]]
        }
    components: list[dict[str, Any]] = []
    if header is not None:
        header_component: dict[str, Any] = {"type": "HEADER", "format": "TEXT", "text": header}
        if "{{" in header:
            header_component["example"] = {"header_text": ["Musterstadt"]}
        components.append(header_component)
    components.append(body_component)
    if footer is not None:
        components.append({"type": "FOOTER", "text": footer})
    buttons: list[dict[str, Any]] = [
        {"type": "QUICK_REPLY", "text": text} for text in quick_replies or []
    ]
    if url is not None:
        button: dict[str, Any] = {"type": "URL", "text": "Mehr erfahren", "url": url}
        if "{{1}}" in url:
            button["example"] = ["abfall"]
        buttons.append(button)
    if buttons:
        components.append({"type": "BUTTONS", "buttons": buttons})
    return {"name": name, "language": language, "category": category, "components": components}


async def create_template(client: httpx.AsyncClient, definition: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(TEMPLATES_PATH, json=definition, headers=AUTH)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


def template_send(
    name: str = "abfallkalender",
    language: str = "de",
    components: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    template: dict[str, Any] = {"name": name, "language": {"code": language}}
    if components is not None:
        template["components"] = components
    return message("template", template, **extra)


def body_parameters(*texts: str) -> dict[str, Any]:
    return {"type": "body", "parameters": [{"type": "text", "text": text} for text in texts]}


def quick_reply(index: int | str, payload: str) -> dict[str, Any]:
    return {
        "type": "button",
        "sub_type": "quick_reply",
        "index": index,
        "parameters": [{"type": "payload", "payload": payload}],
    }
