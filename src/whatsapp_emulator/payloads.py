"""Webhook bodies in the shapes Meta sends (see pywa's fixtures and Meta's OpenAPI schemas)."""

from __future__ import annotations

from typing import Any

from whatsapp_emulator.config import EmulatorConfig
from whatsapp_emulator.state import ChatMessage, User

# Per-message pricing since July 2025: a free-form reply inside the customer service window.
# policy.py prices each message when it is accepted; this is for messages it has not priced.
SERVICE_PRICING: dict[str, Any] = {
    "billable": False,
    "pricing_model": "PMP",
    "type": "free_customer_service",
    "category": "service",
}


def envelope(config: EmulatorConfig, value: dict[str, Any]) -> dict[str, Any]:
    """Wrap a ``messages`` field value; ``entry[].id`` is the business account, not the phone."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": config.business_account_id,
                "changes": [{"value": value, "field": "messages"}],
            }
        ],
    }


def status_value(
    config: EmulatorConfig, recipient: User, message: ChatMessage, status: str, timestamp: int
) -> dict[str, Any]:
    """A ``statuses[]`` value for one outgoing message.

    ``conversation`` is left out: under per-message pricing Meta only sends it for free entry
    point conversations, which the emulator does not model.
    """
    entry: dict[str, Any] = {
        "id": message.id,
        "status": status,
        "timestamp": str(timestamp),
        "recipient_id": recipient.wa_id,
    }
    if message.biz_opaque_callback_data is not None:
        entry["biz_opaque_callback_data"] = message.biz_opaque_callback_data
    if status == "failed":
        # Failed statuses carry errors[] and no pricing (pywa message_status.json#failed).
        entry["errors"] = [message.error] if message.error is not None else []
    else:
        entry["pricing"] = dict(message.pricing or SERVICE_PRICING)
    return {**_value_head(config), "statuses": [entry]}


def user_preferences_value(
    config: EmulatorConfig, user: User, preference: str, timestamp: int
) -> dict[str, Any]:
    """A ``user_preferences`` field value: the citizen stopped or resumed marketing messages.

    Shape of pywa's ``user_marketing_preferences.json``; ``timestamp`` is an integer here,
    unlike everywhere else (contract 2.6).
    """
    verb = "stop receiving" if preference == "stop" else "resume"
    name = user.name if user.name is not None else f"Testperson {user.wa_id[-4:]}"
    return {
        **_value_head(config),
        "contacts": [{"profile": {"name": name}, "wa_id": user.wa_id}],
        "user_preferences": [
            {
                "wa_id": user.wa_id,
                "detail": f"User requested to {verb} marketing messages",
                "category": "marketing_messages",
                "value": preference,
                "timestamp": timestamp,
            }
        ],
    }


# Inbound message types whose object is a stored file (``{"id", "mime_type", "sha256"}``).
INBOUND_MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")


def inbound_message_value(
    config: EmulatorConfig, sender: User, message: ChatMessage
) -> dict[str, Any]:
    """A ``messages[]`` value for something the citizen sent."""
    entry: dict[str, Any] = {}
    if message.context_id is not None:
        # A reply names the business number as seen on the phone and the quoted message.
        entry["context"] = {"from": config.display_phone_number, "id": message.context_id}
    elif message.forwarded:
        entry["context"] = {"forwarded": True}
    entry.update(
        {
            "from": sender.wa_id,
            "id": message.id,
            "timestamp": str(message.timestamp),
            "type": message.type,
        }
    )
    if message.type == "text":
        entry["text"] = {"body": message.text}
    elif message.type == "interactive":
        entry["interactive"] = message.interactive
    elif message.type == "button":
        entry["button"] = message.template_button
    elif message.type in INBOUND_MEDIA_TYPES and message.media is not None:
        entry[message.type] = message.media
    elif message.type == "location":
        entry["location"] = message.location
    elif message.type == "reaction":
        entry["reaction"] = message.reaction
    elif message.type == "contacts":
        entry["contacts"] = message.contacts
    else:
        raise ValueError(f"cannot build a webhook for an inbound {message.type!r} message")
    return {
        **_value_head(config),
        "contacts": [{"profile": {"name": sender.name}, "wa_id": sender.wa_id}],
        "messages": [entry],
    }


def _value_head(config: EmulatorConfig) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": config.display_phone_number,
            "phone_number_id": config.phone_number_id,
        },
    }
