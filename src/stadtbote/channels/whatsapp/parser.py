"""Meta's webhook JSON -> neutral inbound events (stadtbote.channels.types).

Webhooks batch several entries and changes in one POST, so everything loops. Shapes follow the
Cloud API contract (../shared/whatsapp/cloud-api-contract.md, section 2). A body that is not the
envelope at all raises MalformedWebhook; a well-formed item we do not act on becomes Unhandled.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from stadtbote.channels.types import (
    ButtonReply,
    DeliveryStatus,
    InboundEvent,
    InboundText,
    StatusUpdate,
    Unhandled,
)


class MalformedWebhook(ValueError):
    """The body is not a WhatsApp webhook envelope; the message never contains the body."""


def parse(body: bytes) -> list[InboundEvent]:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedWebhook(f"not JSON: {type(exc).__name__}") from None
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        raise MalformedWebhook("not a whatsapp_business_account webhook")
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise MalformedWebhook("entry is not a list")
    try:
        return list(_events(entries))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedWebhook(f"unexpected shape: {type(exc).__name__}") from None


def _events(entries: list[Any]) -> Iterator[InboundEvent]:
    for entry in entries:
        for change in entry.get("changes", []):
            field = change.get("field")
            value = change["value"]
            if field != "messages":
                yield Unhandled(kind=f"field:{field}")
                continue
            names = {
                c.get("wa_id"): c.get("profile", {}).get("name") for c in value.get("contacts", [])
            }
            for message in value.get("messages", []):
                yield _message(message, names)
            for status in value.get("statuses", []):
                yield _status(status)
            for error in value.get("errors", []):
                yield Unhandled(kind="error", details={"code": error.get("code")})


def _timestamp(raw: Any) -> datetime:
    return datetime.fromtimestamp(int(raw), tz=UTC)


def _message(message: dict[str, Any], names: dict[str, str | None]) -> InboundEvent:
    kind = message["type"]
    sender = str(message["from"])
    common = {
        "sender": sender,
        "message_id": message["id"],
        "timestamp": _timestamp(message["timestamp"]),
    }
    if kind == "text":
        return InboundText(**common, text=message["text"]["body"], profile_name=names.get(sender))
    if kind == "interactive" and message.get("interactive", {}).get("type") == "button_reply":
        reply = message["interactive"]["button_reply"]
        return ButtonReply(
            **common,
            button_id=reply["id"],
            title=reply.get("title", ""),
            context_message_id=message.get("context", {}).get("id"),
        )
    if kind == "button":  # a tap on a template's quick-reply button
        return ButtonReply(
            **common,
            button_id=message["button"]["payload"],
            title=message["button"].get("text", ""),
            context_message_id=message.get("context", {}).get("id"),
        )
    return Unhandled(kind=f"message:{kind}")


def _status(status: dict[str, Any]) -> InboundEvent:
    try:
        state = DeliveryStatus(status["status"])
    except ValueError:
        return Unhandled(kind=f"status:{status['status']}")
    errors = status.get("errors") or [{}]
    pricing = status.get("pricing") or {}
    return StatusUpdate(
        message_id=status["id"],
        status=state,
        timestamp=_timestamp(status["timestamp"]),
        recipient=str(status.get("recipient_id", "")),
        error_code=errors[0].get("code"),
        error_title=errors[0].get("title"),
        pricing_category=pricing.get("category"),
        billable=pricing.get("billable"),
        tracker=status.get("biz_opaque_callback_data"),
    )
