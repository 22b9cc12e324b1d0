"""Neutral OutboundMessage -> the Graph API request body (contract section 1.3)."""

from __future__ import annotations

from typing import Any

from stadtbote.channels.types import OutboundMessage


def build(to: str, message: OutboundMessage) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
    }
    if message.template is not None:
        body["type"] = "template"
        template: dict[str, Any] = {
            "name": message.template.name,
            "language": {"code": message.template.language},
        }
        components: list[dict[str, Any]] = []
        if message.template.parameters:
            components.append(
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": p} for p in message.template.parameters
                    ],
                }
            )
        components += [
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": str(index),
                "parameters": [{"type": "payload", "payload": payload}],
            }
            for index, payload in enumerate(message.template.quick_replies)
        ]
        if components:
            template["components"] = components
        body["template"] = template
    elif message.menu is not None:
        body["type"] = "interactive"
        body["interactive"] = {
            "type": "list",
            "body": {"text": message.text},
            "action": {
                "button": message.menu.button,
                "sections": [
                    {
                        "rows": [
                            {"id": r.id, "title": r.title, "description": r.description}
                            if r.description
                            else {"id": r.id, "title": r.title}
                            for r in message.menu.rows
                        ]
                    }
                ],
            },
        }
    elif message.buttons:
        body["type"] = "interactive"
        body["interactive"] = {
            "type": "button",
            "body": {"text": message.text},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": b.id, "title": b.title}}
                    for b in message.buttons
                ]
            },
        }
    elif message.image_url:
        body["type"] = "image"
        body["image"] = {"link": message.image_url}
        if message.text:
            body["image"]["caption"] = message.text
    else:
        body["type"] = "text"
        body["text"] = {"body": message.text, "preview_url": message.preview_url}
    if message.tracker:
        body["biz_opaque_callback_data"] = message.tracker
    return body
