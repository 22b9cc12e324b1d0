"""Checks on bodies posted to ``/{version}/{phone_number_id}/messages``.

Limits follow Meta's OpenAPI description (``ActionObject``, ``BodyObject``, ...). Each check
raises a :class:`~whatsapp_emulator.errors.GraphError` whose details name the offending
parameter in Meta's ``text['body']`` notation, so a failing client test points at the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from whatsapp_emulator import errors

TEXT_BODY_MAX = 4096
BUTTONS_MIN = 1
BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
INTERACTIVE_BODY_MAX = 1024
HEADER_TEXT_MAX = 60
FOOTER_TEXT_MAX = 60
CALLBACK_DATA_MAX = 512

# Message types Meta knows (OpenAPI ``Message`` discriminator) that this version does not
# emulate yet; they get a clearer answer than a type Meta has never heard of.
NOT_YET_EMULATED_TYPES = frozenset(
    [
        "image",
        "audio",
        "video",
        "document",
        "sticker",
        "location",
        "contacts",
        "template",
        "reaction",
    ]
)
NOT_YET_EMULATED_INTERACTIVE = frozenset(
    [
        "list",
        "cta_url",
        "flow",
        "product",
        "product_list",
        "catalog_message",
        "call_permission_request",
    ]
)

# Clients write numbers as "+49 170 1234567", "49-170-1234567" or plain digits.
_PHONE_NUMBER = re.compile(r"\+?[0-9 ().-]+")


@dataclass(frozen=True)
class OutgoingMessage:
    """A validated send request; ``interactive`` holds only the fields that were checked."""

    body: dict[str, Any]  # the request as posted, for the log of sends
    to: str
    wa_id: str
    type: str
    text: str | None
    interactive: dict[str, Any] | None
    context_message_id: str | None
    biz_opaque_callback_data: str | None


@dataclass(frozen=True)
class MarkRead:
    """The business marks a received message as read (optionally showing a typing bubble)."""

    message_id: str


def parse_messages_request(body: object) -> OutgoingMessage | MarkRead:
    if not isinstance(body, dict):
        raise errors.invalid_parameter("The request body must be a JSON object")
    _check_messaging_product(body)
    if "status" in body:
        return _parse_mark_read(body)
    return _parse_send(body)


def digits_of_phone_number(value: str) -> str | None:
    """The wa_id for a phone number as a client may write it, or None if it is none."""
    if not _PHONE_NUMBER.fullmatch(value):
        return None
    digits = re.sub(r"[^0-9]", "", value)
    # E.164 numbers have at most 15 digits; fewer than 6 cannot be a mobile number.
    if not 6 <= len(digits) <= 15:
        return None
    return digits


def _check_messaging_product(body: dict[str, Any]) -> None:
    if "messaging_product" not in body:
        raise errors.missing_parameter("The parameter messaging_product is required.")
    if body["messaging_product"] != "whatsapp":
        raise errors.invalid_parameter("Param messaging_product must be 'whatsapp'")


def _parse_mark_read(body: dict[str, Any]) -> MarkRead:
    if body["status"] != "read":
        raise errors.invalid_parameter("Param status must be 'read'")
    message_id = _required_string(body, "message_id", "message_id", max_length=None)
    indicator = body.get("typing_indicator")
    if indicator is not None and (
        not isinstance(indicator, dict) or indicator.get("type") != "text"
    ):
        raise errors.invalid_parameter("Param typing_indicator['type'] must be 'text'")
    return MarkRead(message_id=message_id)


def _parse_send(body: dict[str, Any]) -> OutgoingMessage:
    recipient_type = body.get("recipient_type", "individual")
    if recipient_type != "individual":
        raise errors.invalid_parameter(
            "Param recipient_type: only 'individual' is supported by this emulator version"
        )
    to = _required_string(body, "to", "to", max_length=None)
    wa_id = digits_of_phone_number(to)
    if wa_id is None:
        raise errors.invalid_parameter("Param to must be a phone number with 6 to 15 digits")
    # Meta's documented default when ``type`` is left out.
    message_type = body.get("type", "text")
    if not isinstance(message_type, str):
        raise errors.invalid_parameter("Param type must be a string")
    text: str | None = None
    interactive: dict[str, Any] | None = None
    if message_type == "text":
        text = _parse_text(body)
    elif message_type == "interactive":
        interactive = _parse_interactive(body)
    elif message_type in NOT_YET_EMULATED_TYPES:
        raise errors.invalid_parameter(
            f"Message type '{message_type}' is not supported by this emulator version yet; "
            "supported are 'text' and 'interactive' (button)"
        )
    else:
        raise errors.invalid_parameter(f"Param type: unknown message type '{message_type}'")
    return OutgoingMessage(
        body=body,
        to=to,
        wa_id=wa_id,
        type=message_type,
        text=text,
        interactive=interactive,
        context_message_id=_parse_context(body),
        biz_opaque_callback_data=_parse_callback_data(body),
    )


def _parse_text(body: dict[str, Any]) -> str:
    text = _required_object(body, "text", "text")
    preview_url = text.get("preview_url", False)
    if not isinstance(preview_url, bool):
        raise errors.invalid_parameter("Param text['preview_url'] must be a boolean")
    return _required_string(text, "body", "text['body']", max_length=TEXT_BODY_MAX)


def _parse_interactive(body: dict[str, Any]) -> dict[str, Any]:
    interactive = _required_object(body, "interactive", "interactive")
    kind = _required_string(interactive, "type", "interactive['type']", max_length=None)
    if kind in NOT_YET_EMULATED_INTERACTIVE:
        raise errors.invalid_parameter(
            f"Interactive type '{kind}' is not supported by this emulator version yet; "
            "supported is 'button'"
        )
    if kind != "button":
        raise errors.invalid_parameter(f"Param interactive['type']: unknown type '{kind}'")
    checked: dict[str, Any] = {"type": "button"}
    if "header" in interactive:
        checked["header"] = _parse_header(interactive)
    body_object = _required_object(interactive, "body", "interactive['body']")
    checked["body"] = {
        "text": _required_string(
            body_object, "text", "interactive['body']['text']", max_length=INTERACTIVE_BODY_MAX
        )
    }
    if "footer" in interactive:
        footer = _required_object(interactive, "footer", "interactive['footer']")
        checked["footer"] = {
            "text": _required_string(
                footer, "text", "interactive['footer']['text']", max_length=FOOTER_TEXT_MAX
            )
        }
    action = _required_object(interactive, "action", "interactive['action']")
    checked["action"] = {"buttons": _parse_buttons(action)}
    return checked


def _parse_header(interactive: dict[str, Any]) -> dict[str, str]:
    header = _required_object(interactive, "header", "interactive['header']")
    kind = _required_string(header, "type", "interactive['header']['type']", max_length=None)
    if kind != "text":
        raise errors.invalid_parameter(
            f"Header type '{kind}' is not supported by this emulator version yet; "
            "supported is 'text'"
        )
    text = _required_string(
        header, "text", "interactive['header']['text']", max_length=HEADER_TEXT_MAX
    )
    return {"type": "text", "text": text}


def _parse_buttons(action: dict[str, Any]) -> list[dict[str, Any]]:
    if "buttons" not in action:
        raise errors.missing_parameter(
            "The parameter interactive['action']['buttons'] is required."
        )
    buttons = action["buttons"]
    if not isinstance(buttons, list):
        raise errors.invalid_parameter("Param interactive['action']['buttons'] must be an array")
    if not BUTTONS_MIN <= len(buttons) <= BUTTONS_MAX:
        raise errors.invalid_value(
            f"Invalid buttons count. Min allowed buttons: {BUTTONS_MIN}, "
            f"Max allowed buttons: {BUTTONS_MAX}"
        )
    checked: list[dict[str, Any]] = []
    for index, button in enumerate(buttons):
        path = f"interactive['action']['buttons'][{index}]"
        if not isinstance(button, dict):
            raise errors.invalid_parameter(f"Param {path} must be an object")
        if button.get("type") != "reply":
            raise errors.invalid_parameter(f"Param {path}['type'] must be 'reply'")
        reply = _required_object(button, "reply", f"{path}['reply']")
        button_id = _required_string(reply, "id", f"{path}['reply']['id']", max_length=None)
        if len(button_id) > BUTTON_ID_MAX:
            raise errors.invalid_value(
                f"Button id length invalid. Min length: 1, Max length: {BUTTON_ID_MAX}"
            )
        title = _required_string(reply, "title", f"{path}['reply']['title']", max_length=None)
        if len(title) > BUTTON_TITLE_MAX:
            raise errors.invalid_value(
                f"Button title length invalid. Min length: 1, Max length: {BUTTON_TITLE_MAX}"
            )
        checked.append({"type": "reply", "reply": {"id": button_id, "title": title}})
    ids = [button["reply"]["id"] for button in checked]
    if len(set(ids)) != len(ids):
        raise errors.invalid_value("Duplicate button id")
    titles = [button["reply"]["title"] for button in checked]
    if len(set(titles)) != len(titles):
        raise errors.invalid_value("Duplicate button title")
    return checked


def _parse_context(body: dict[str, Any]) -> str | None:
    if "context" not in body:
        return None
    context = _required_object(body, "context", "context")
    return _required_string(context, "message_id", "context['message_id']", max_length=None)


def _parse_callback_data(body: dict[str, Any]) -> str | None:
    if "biz_opaque_callback_data" not in body:
        return None
    value = body["biz_opaque_callback_data"]
    if not isinstance(value, str) or len(value) > CALLBACK_DATA_MAX:
        raise errors.invalid_parameter(
            f"Param biz_opaque_callback_data must be a string of at most {CALLBACK_DATA_MAX} "
            "characters"
        )
    return value


def _required_object(parent: dict[str, Any], key: str, path: str) -> dict[str, Any]:
    if key not in parent:
        raise errors.missing_parameter(f"The parameter {path} is required.")
    value = parent[key]
    if not isinstance(value, dict):
        raise errors.invalid_parameter(f"Param {path} must be a JSON object")
    return value


def _required_string(parent: dict[str, Any], key: str, path: str, *, max_length: int | None) -> str:
    if key not in parent:
        raise errors.missing_parameter(f"The parameter {path} is required.")
    value = parent[key]
    if not isinstance(value, str):
        raise errors.invalid_parameter(f"Param {path} must be a string")
    if not value.strip():
        raise errors.invalid_parameter(f"Param {path} must not be empty")
    if max_length is not None and len(value) > max_length:
        raise errors.invalid_parameter(f"Param {path} must be at most {max_length} characters long")
    return value
