"""Meta's webhook JSON -> neutral inbound events (stadtbote.channels.types).

Webhooks batch several entries and changes in one POST, so everything loops. Shapes follow the
Cloud API contract (../shared/whatsapp/cloud-api-contract.md, section 2). A body that is not the
envelope at all raises MalformedWebhook; a well-formed item we do not act on becomes Unhandled.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from stadtbote.channels.types import (
    Choice,
    ChoiceSource,
    DeliveryStatus,
    InboundEvent,
    InboundText,
    Location,
    MarketingPreference,
    Media,
    NumberChanged,
    Reaction,
    StatusUpdate,
    TemplateStatusChanged,
    Unhandled,
    UnsupportedMessage,
)

MEDIA_KINDS = ("image", "document", "audio", "video", "sticker")
CITIZEN_MESSAGES = (InboundText, Choice, Location, Media, UnsupportedMessage)


class MalformedWebhook(ValueError):
    """The body is not a WhatsApp webhook envelope; the message never contains the body."""


SHAPE_ERRORS = (KeyError, TypeError, ValueError, AttributeError)


@dataclasses.dataclass(frozen=True, slots=True)
class Parsed:
    """A body's events; `problem` names what was left out as malformed, if anything."""

    events: list[InboundEvent]
    problem: str | None = None


def parse(body: bytes) -> list[InboundEvent]:
    return _parse(body, None)


def parse_tolerant(body: bytes) -> Parsed:
    """Like `parse`, but a malformed item of a `statuses` list is left out and named in
    `problem` instead of failing the whole body: each status is a fact on its own, and Meta
    puts up to 1,000 of them in one body. Anything else malformed still fails the body."""
    skipped: list[str] = []
    events = _parse(body, skipped)
    if not skipped:
        return Parsed(events)
    more = f" (and {len(skipped) - 1} more)" if len(skipped) > 1 else ""
    return Parsed(events, f"status left out: {skipped[0]}{more}")


def _parse(body: bytes, skipped: list[str] | None) -> list[InboundEvent]:
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
        return list(_events(entries, skipped))
    except SHAPE_ERRORS as exc:
        raise MalformedWebhook(_shape(exc)) from None


def _shape(exc: Exception) -> str:
    return f"unexpected shape: {type(exc).__name__}"


def _events(entries: list[Any], skipped: list[str] | None) -> Iterator[InboundEvent]:
    for entry in entries:
        for change in entry.get("changes", []):
            field = change.get("field")
            value = change["value"]
            if field == "messages":
                yield from _messages_field(value, skipped)
            elif field == "user_preferences":
                yield from _preferences(value)
            elif field == "message_template_status_update":
                yield TemplateStatusChanged(
                    name=value["message_template_name"],
                    language=value["message_template_language"],
                    status=value["event"],
                    reason=value.get("reason"),
                )
            else:
                yield Unhandled(kind=f"field:{field}")


def _messages_field(value: dict[str, Any], skipped: list[str] | None) -> Iterator[InboundEvent]:
    contacts = {c.get("wa_id"): c for c in value.get("contacts", [])}
    for message in value.get("messages", []):
        yield _message(message, contacts)
    for status in value.get("statuses", []):
        if skipped is None:
            yield _status(status)
            continue
        try:
            event = _status(status)
        except SHAPE_ERRORS as exc:
            skipped.append(_shape(exc))
            continue
        yield event
    for error in value.get("errors", []):
        yield Unhandled(kind="error", details={"code": error.get("code")})


@functools.lru_cache(maxsize=4096)
def _timestamp(raw: Any) -> datetime:
    # Cached: the statuses of a batch share their few seconds (datetimes are immutable).
    return datetime.fromtimestamp(int(raw), tz=UTC)


def _string(value: Any) -> str:
    """An id the rest of the app compares and splits as text; anything else is malformed."""
    if not isinstance(value, str) or not value:
        raise TypeError("expected a non-empty string")
    return value


def _forwarded(message: dict[str, Any]) -> bool:
    context = message.get("context") or {}
    return bool(context.get("forwarded") or context.get("frequently_forwarded"))


def _message(message: dict[str, Any], contacts: dict[str, Any]) -> InboundEvent:
    kind = message["type"]
    if "from" not in message and "from_user_id" in message:
        # A username user without a recent conversation may come without a phone number
        # (business-scoped ids, 2026); Stadtbote keys subscribers by number for now.
        return Unhandled(kind=f"message:{kind}:without-number")
    common: dict[str, Any] = {
        "sender": str(message["from"]),
        "message_id": message["id"],
        "timestamp": _timestamp(message["timestamp"]),
    }
    parse_kind = _MESSAGE_PARSERS.get(kind)
    contact = contacts.get(common["sender"]) or {}
    user_id = message.get("from_user_id") or contact.get("user_id")
    if kind in MEDIA_KINDS:
        event = _media(kind, message, common)
    elif parse_kind is None:
        return Unhandled(kind=f"message:{kind}")
    else:
        event = parse_kind(message, common)
    if isinstance(event, InboundText):
        event = dataclasses.replace(event, profile_name=(contact.get("profile") or {}).get("name"))
    if user_id and isinstance(event, CITIZEN_MESSAGES):
        event = dataclasses.replace(event, user_id=str(user_id))
    return event


def _text(message: dict[str, Any], common: dict[str, Any]) -> InboundEvent:
    return InboundText(
        **common,
        text=message["text"]["body"],
        context_message_id=(message.get("context") or {}).get("id"),
        forwarded=_forwarded(message),
    )


def _interactive(message: dict[str, Any], common: dict[str, Any]) -> InboundEvent:
    interactive = message.get("interactive")
    if interactive is None:  # Meta could not render it; the value carries an error
        return Unhandled(kind="message:interactive:empty")
    reply_kind = interactive.get("type")
    sources = {"button_reply": ChoiceSource.BUTTON, "list_reply": ChoiceSource.LIST}
    if reply_kind not in sources:
        return Unhandled(kind=f"message:interactive:{reply_kind}")
    reply = interactive[reply_kind]
    return Choice(
        **common,
        choice_id=_string(reply["id"]),
        title=reply.get("title", ""),
        source=sources[reply_kind],
        context_message_id=(message.get("context") or {}).get("id"),
    )


def _button(message: dict[str, Any], common: dict[str, Any]) -> InboundEvent:
    return Choice(
        **common,
        choice_id=_string(message["button"]["payload"]),
        title=message["button"].get("text", ""),
        source=ChoiceSource.QUICK_REPLY,
        context_message_id=(message.get("context") or {}).get("id"),
    )


def _reaction(message: dict[str, Any], common: dict[str, Any]) -> InboundEvent:
    reaction = message["reaction"]
    # Checked here: a reaction naming no message (None would match every message not sent
    # yet) or an emoji that is not text is malformed, not an error further on.
    emoji = reaction.get("emoji")
    if emoji is not None and not isinstance(emoji, str):
        raise TypeError("emoji is not text")
    return Reaction(
        **common,
        target_message_id=_string(reaction["message_id"]),
        emoji=emoji or None,
    )


def _location(message: dict[str, Any], common: dict[str, Any]) -> InboundEvent:
    location = message["location"]
    return Location(
        **common,
        latitude=float(location["latitude"]),
        longitude=float(location["longitude"]),
        name=location.get("name"),
        address=location.get("address"),
        forwarded=_forwarded(message),
    )


def _media(kind: str, message: dict[str, Any], common: dict[str, Any]) -> InboundEvent:
    media = message[kind]
    return Media(
        **common,
        kind=kind,
        media_id=str(media["id"]),
        mime_type=media.get("mime_type", "application/octet-stream"),
        sha256=media.get("sha256"),
        caption=media.get("caption"),
        filename=media.get("filename"),
        voice=bool(media.get("voice", False)),
        forwarded=_forwarded(message),
    )


def _system(message: dict[str, Any], common: dict[str, Any]) -> InboundEvent:
    system = message["system"]
    if system.get("type") == "user_changed_number":
        return NumberChanged(**common, new_number=str(system["wa_id"]))
    return Unhandled(kind=f"system:{system.get('type')}")


def _unsupported(message: dict[str, Any], common: dict[str, Any]) -> InboundEvent:
    return UnsupportedMessage(
        **common, kind=str((message.get("unsupported") or {}).get("type", "unknown"))
    )


_MESSAGE_PARSERS: dict[str, Callable[[dict[str, Any], dict[str, Any]], InboundEvent]] = {
    "text": _text,
    "interactive": _interactive,
    "button": _button,
    "reaction": _reaction,
    "location": _location,
    "system": _system,
    "unsupported": _unsupported,
}


def _preferences(value: dict[str, Any]) -> Iterator[InboundEvent]:
    for preference in value.get("user_preferences", []):
        if preference.get("category") != "marketing_messages" or preference.get("value") not in (
            "stop",
            "resume",
        ):
            yield Unhandled(kind=f"preference:{preference.get('value')}")
            continue
        yield MarketingPreference(
            sender=str(preference["wa_id"]),
            timestamp=_timestamp(preference["timestamp"]),
            stopped=preference["value"] == "stop",
        )


# A dict look-up instead of calling the enum, which costs several times more; a body can
# hold a thousand statuses. Anything else (also "played", or a value that is no string) is
# Unhandled, as the enum's ValueError made it.
_DELIVERY_STATUSES = {s.value: s for s in DeliveryStatus}


def _status(status: dict[str, Any]) -> InboundEvent:
    raw = status["status"]
    state = _DELIVERY_STATUSES.get(raw) if isinstance(raw, str) else None
    if state is None:
        return Unhandled(kind=f"status:{raw}")
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
