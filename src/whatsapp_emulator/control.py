"""The control API under ``/_emulator``: act as a citizen's phone and look inside the emulator.

Tests and the phone page use it; Meta has no such thing. Bad input gets HTTP 400 with
``{"error": "..."}``. Numbers in paths are wa_ids: 6 to 15 digits, no "+".

- ``GET /health`` → ``{"ok": true}``
- ``GET /users`` → ``{"users": [{"wa_id", "name", "messages", "incoming", "outgoing",
  "unread"}]}``
- ``GET /users/{wa_id}/messages`` → ``{"wa_id", "name", "marketing_stopped", "messages":
  [{"id", "direction" ("in" | "out"), "timestamp", "type", "text" | "interactive" | "media" |
  "location" | "reaction" | "button" | "contacts" | ..., ["forwarded"], ["context_id"],
  "status"}]}``
- ``POST /users/{wa_id}/send`` → ``{"id": wamid}`` (media types also ``"media_id"``), with
  one of these bodies, each with an optional ``"name"`` or ``"profile_name"`` (the citizen's
  profile name; for a location only ``"profile_name"``, since ``"name"`` names the place):

  - ``{"type": "text", "text", ["context_id"], ["forwarded"]}``: ``context_id`` quotes a
    business message; ``forwarded: true`` marks it forwarded
  - ``{"type": "button_reply", "id", ["title"], "context_id"}``: tap on a reply button
  - ``{"type": "list_reply", "id", ["title"], "context_id"}``: pick a row of a list message
  - ``{"type": "button", "payload" and/or "text", "context_id"}``: tap on a template's
    quick-reply button
  - ``{"type": "image" | "document" | "audio" | "video" | "sticker", "media":
    {"data_base64", "mime_type", ["caption"], ["filename"], ["voice"], ["animated"]},
    ["forwarded"]}``: a file; the bytes are downloadable with ``GET /{version}/{media_id}``
  - ``{"type": "location", "latitude", "longitude", ["name"], ["address"], ["url"],
    ["forwarded"]}``: a pin; name, address and url describe a chosen place
  - ``{"type": "reaction", "message_id", "emoji"}``: react to a business message; ``""``
    takes the reaction back
  - ``{"type": "contacts", "contacts": [{"name": {"formatted_name", ...}, "phones":
    [{"phone", ["type"], ["wa_id"]}]}]}``

- ``POST /users/{wa_id}/marketing`` with ``{"stopped": true | false}`` → ``{"wa_id",
  "marketing_stopped", "changed"}``: the citizen stops or resumes marketing messages; a
  change sends Meta's ``user_preferences`` webhook
- ``POST /users/{wa_id}/read`` → ``{"read": count}`` (the phone opens the chat)
- ``GET /media/{media_id}`` → the stored file, for the phone page (no token needed)
- ``GET /messages`` → ``{"messages": [{"id", "timestamp", "phone_number_id", "to", "wa_id",
  "type", "body"}]}``, every accepted Graph API send
- ``GET /webhooks`` → ``{"pending", "attempts": [{"time", "url", "attempt", "kind", "detail",
  "message_id", "ok", "status_code", "error", "next_retry_in"}]}``
- ``POST /verify-webhook`` with optional ``{"verify_token"}`` → ``{"ok", "url", "challenge",
  "status_code", "body", "error"}``
- ``POST /reset`` → ``{"ok": true}``
"""

from __future__ import annotations

import base64
import binascii
import functools
import math
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from whatsapp_emulator.emulator import Emulator
from whatsapp_emulator.jsonio import InvalidJson, decode_json
from whatsapp_emulator.state import ChatMessage
from whatsapp_emulator.validation import TEXT_BODY_MAX

PREFIX = "/_emulator"
PROFILE_NAME_MAX = 100
CAPTION_MAX = 1024
FILENAME_MAX = 240
PLACE_TEXT_MAX = 1000
EMOJI_MAX_CODE_POINTS = 16
CONTACTS_MAX = 20
MB = 1024 * 1024

# What a WhatsApp phone sends, with Meta's size limits for media.
MEDIA_LIMITS: dict[str, int] = {
    "image": 5 * MB,
    "video": 16 * MB,
    "audio": 16 * MB,
    "sticker": 500 * 1024,
    "document": 100 * MB,
}
# Documents may have any type; the other kinds only those WhatsApp supports.
MEDIA_MIME_TYPES: dict[str, tuple[str, ...]] = {
    "image": ("image/jpeg", "image/png"),
    "video": ("video/mp4", "video/3gpp"),
    "audio": ("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"),
    "sticker": ("image/webp",),
}
# The first bytes of image formats, so a test cannot send text labelled as a photo.
MAGIC_BYTES: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/webp": (b"RIFF",),
}
_MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*(\s*;.*)?")

Endpoint = Callable[[Request], Awaitable[Response]]


class ControlError(Exception):
    """Bad input to the control API; answered with HTTP 400."""


def _route(method: str, path: str, endpoint: Endpoint) -> Route:
    """A route whose ControlError becomes a JSON error answer."""

    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        try:
            return await endpoint(request)
        except ControlError as error:
            return JSONResponse({"error": str(error)}, status_code=400)

    return Route(path, guarded, methods=[method])


class ControlApi:
    def __init__(self, emulator: Emulator) -> None:
        self._emulator = emulator

    def routes(self) -> list[BaseRoute]:
        routes = [
            _route("GET", "/health", self.health),
            _route("GET", "/users", self.users),
            _route("GET", "/users/{wa_id}/messages", self.chat),
            _route("POST", "/users/{wa_id}/send", self.send),
            _route("POST", "/users/{wa_id}/marketing", self.marketing),
            _route("POST", "/users/{wa_id}/read", self.read),
            _route("GET", "/media/{media_id}", self.media),
            _route("GET", "/messages", self.sent_messages),
            _route("GET", "/webhooks", self.webhook_log),
            _route("POST", "/verify-webhook", self.verify_webhook),
            _route("POST", "/reset", self.reset),
        ]
        return [Mount(PREFIX, routes=routes)]

    async def health(self, request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def users(self, request: Request) -> Response:
        users = self._emulator.state.users.values()
        return JSONResponse({"users": [user.summary() for user in users]})

    async def chat(self, request: Request) -> Response:
        wa_id = _wa_id(request)
        # Looking at a chat does not create the user, so the phone page may poll any number.
        user = self._emulator.state.users.get(wa_id)
        messages = [] if user is None else [message.to_json() for message in user.messages]
        name = None if user is None else user.name
        stopped = user is not None and user.marketing_stopped
        return JSONResponse(
            {"wa_id": wa_id, "name": name, "marketing_stopped": stopped, "messages": messages}
        )

    async def send(self, request: Request) -> Response:
        wa_id = _wa_id(request)
        body = await _json_object(request)
        kind = body.get("type")
        # A location's "name" names the place, so its sender's name comes as "profile_name".
        name = _optional_text(body, "profile_name", PROFILE_NAME_MAX)
        if name is None and kind != "location":
            name = _optional_text(body, "name", PROFILE_NAME_MAX)
        if isinstance(kind, str) and kind in MEDIA_LIMITS:
            message = self._receive_media(wa_id, kind, body, name)
            assert message.media is not None
            return JSONResponse({"id": message.id, "media_id": message.media["id"]})
        handlers: dict[str, Callable[[str, dict[str, Any], str | None], ChatMessage]] = {
            "text": self._receive_text,
            "button_reply": self._receive_button_reply,
            "list_reply": self._receive_list_reply,
            "button": self._receive_template_button,
            "location": self._receive_location,
            "reaction": self._receive_reaction,
            "contacts": self._receive_contacts,
        }
        handler = handlers.get(kind) if isinstance(kind, str) else None
        if handler is None:
            known = ", ".join(sorted([*handlers, *MEDIA_LIMITS]))
            raise ControlError(f"type must be one of {known}; got {kind!r}")
        message = handler(wa_id, body, name)
        return JSONResponse({"id": message.id})

    async def marketing(self, request: Request) -> Response:
        wa_id = _wa_id(request)
        body = await _json_object(request)
        stopped = body.get("stopped")
        if not isinstance(stopped, bool):
            raise ControlError("stopped must be true (stop marketing) or false (resume)")
        changed = self._emulator.set_marketing_preference(wa_id, stopped)
        return JSONResponse({"wa_id": wa_id, "marketing_stopped": stopped, "changed": changed})

    async def read(self, request: Request) -> Response:
        return JSONResponse({"read": self._emulator.phone_reads(_wa_id(request))})

    async def media(self, request: Request) -> Response:
        media_id = request.path_params["media_id"]
        item = self._emulator.state.media.get(media_id)
        if item is None:
            return JSONResponse({"error": f"no media with id {media_id!r}"}, status_code=404)
        headers = {
            "X-Content-Type-Options": "nosniff",
            # Files come from tests and the app; opened on their own they must not run script.
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "no-store",
        }
        if item.filename:
            headers["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(item.filename)}"
        return Response(item.data, media_type=item.mime_type, headers=headers)

    async def sent_messages(self, request: Request) -> Response:
        sent = self._emulator.state.sent
        return JSONResponse({"messages": [record.to_json() for record in sent]})

    async def webhook_log(self, request: Request) -> Response:
        webhooks = self._emulator.webhooks
        return JSONResponse(
            {
                "pending": webhooks.pending,
                "attempts": [attempt.to_json() for attempt in webhooks.attempts],
            }
        )

    async def verify_webhook(self, request: Request) -> Response:
        config = self._emulator.config
        if config.webhook_url is None:
            raise ControlError("no webhook URL is configured (EMULATOR_WEBHOOK_URL, --webhook-url)")
        # An optional other token lets a test check that the receiver refuses wrong ones.
        body = await _json_object(request) if await request.body() else {}
        verify_token = body.get("verify_token", config.verify_token)
        if not isinstance(verify_token, str):
            raise ControlError("verify_token must be a string")
        result = await self._emulator.webhooks.verify_subscription(config.webhook_url, verify_token)
        return JSONResponse(result)

    async def reset(self, request: Request) -> Response:
        self._emulator.reset()
        return JSONResponse({"ok": True})

    # One method per inbound type: check what a phone could send, then hand it on.

    def _receive_text(self, wa_id: str, body: dict[str, Any], name: str | None) -> ChatMessage:
        text = _optional_text(body, "text", TEXT_BODY_MAX)
        if text is None:
            raise ControlError("text is required for type 'text'")
        forwarded = _flag(body, "forwarded")
        context_id = body.get("context_id")
        if context_id is not None:
            if forwarded:
                raise ControlError("a forwarded message cannot quote a message (context_id)")
            self._business_message(wa_id, context_id)
        return self._emulator.receive_text(
            wa_id, text, name, context_id=context_id, forwarded=forwarded
        )

    def _receive_button_reply(
        self, wa_id: str, body: dict[str, Any], name: str | None
    ) -> ChatMessage:
        context_id, reply = self._tapped_button(wa_id, body)
        return self._emulator.receive_button_reply(wa_id, reply, context_id, name)

    def _receive_list_reply(
        self, wa_id: str, body: dict[str, Any], name: str | None
    ) -> ChatMessage:
        """A row of a list message this user got; the row keeps its title and description."""
        row_id = _required_string(body, "id", "id (the row id) is required for type 'list_reply'")
        context_id = body.get("context_id")
        message = self._business_message(wa_id, context_id)
        interactive = message.interactive or {}
        if interactive.get("type") != "list":
            raise ControlError(f"message {context_id} is not a list message")
        row = _list_row(interactive, row_id)
        if row is None:
            raise ControlError(f"list message {context_id} has no row with id {row_id!r}")
        title = body.get("title", row["title"])
        if title != row["title"]:
            raise ControlError(f"the row {row_id!r} is titled {row['title']!r}")
        return self._emulator.receive_list_reply(wa_id, row, message.id, name)

    def _receive_template_button(
        self, wa_id: str, body: dict[str, Any], name: str | None
    ) -> ChatMessage:
        """A quick-reply button of a template message this user got."""
        payload = body.get("payload")
        text = body.get("text")
        for key, value in (("payload", payload), ("text", text)):
            if value is not None and (not isinstance(value, str) or not value):
                raise ControlError(f"{key} must be a non-empty string")
        if payload is None and text is None:
            raise ControlError("payload or text (of the quick-reply button) is required")
        context_id = body.get("context_id")
        message = self._business_message(wa_id, context_id)
        template = message.template
        if message.type != "template" or template is None:
            raise ControlError(f"message {context_id} is not a template message")
        for button in template_quick_replies(template):
            if payload in (None, button["payload"]) and text in (None, button["text"]):
                return self._emulator.receive_template_button(
                    wa_id, button["payload"], button["text"], message.id, name
                )
        wanted = f"payload {payload!r}" if payload is not None else f"text {text!r}"
        raise ControlError(f"template message {context_id} has no quick-reply button with {wanted}")

    def _receive_media(
        self, wa_id: str, kind: str, body: dict[str, Any], name: str | None
    ) -> ChatMessage:
        media = body.get("media")
        if not isinstance(media, dict):
            raise ControlError(
                f"media is required for type {kind!r}: "
                '{"data_base64", "mime_type", ["caption"], ["filename"]}'
            )
        mime_type = _mime_type(kind, media)
        data = _decoded(kind, media, mime_type)
        caption = _optional_text(media, "caption", CAPTION_MAX)
        if caption is not None and kind not in ("image", "video", "document"):
            raise ControlError(f"a {kind} has no caption")
        filename = _optional_text(media, "filename", FILENAME_MAX)
        if filename is not None and kind != "document":
            raise ControlError("only a document has a filename")
        if filename is not None and ("/" in filename or "\\" in filename):
            raise ControlError("filename must be a name without folders")
        voice = _flag(media, "voice")
        if voice and kind != "audio":
            raise ControlError("only audio can be a voice message")
        animated = _flag(media, "animated")
        if animated and kind != "sticker":
            raise ControlError("only a sticker can be animated")
        forwarded = _flag(body, "forwarded")
        try:
            return self._emulator.receive_media(
                wa_id,
                kind,
                data,
                mime_type,
                name,
                caption=caption,
                filename=filename,
                voice=voice,
                animated=animated,
                forwarded=forwarded,
            )
        except ValueError as error:
            # The media store refuses a file larger than its whole memory limit.
            raise ControlError(str(error)) from None

    def _receive_location(self, wa_id: str, body: dict[str, Any], name: str | None) -> ChatMessage:
        location: dict[str, Any] = {
            "latitude": _coordinate(body, "latitude", 90),
            "longitude": _coordinate(body, "longitude", 180),
        }
        for key in ("name", "address", "url"):
            value = _optional_text(body, key, PLACE_TEXT_MAX)
            if value is not None:
                location[key] = value
        if not location.get("url", "https://").startswith(("http://", "https://")):
            raise ControlError("url must start with http:// or https://")
        return self._emulator.receive_location(
            wa_id, location, name, forwarded=_flag(body, "forwarded")
        )

    def _receive_reaction(self, wa_id: str, body: dict[str, Any], name: str | None) -> ChatMessage:
        message_id = body.get("message_id")
        emoji = body.get("emoji")
        if not isinstance(emoji, str):
            raise ControlError('emoji is required: one emoji, or "" to take the reaction back')
        if emoji and not _is_one_emoji(emoji):
            raise ControlError(f"emoji must be a single emoji, not {emoji!r}")
        if not isinstance(message_id, str) or not message_id:
            raise ControlError("message_id (the message reacted to) is required")
        message = self._business_message(wa_id, message_id, what="message_id")
        if message.type == "reaction":
            raise ControlError("a reaction cannot be reacted to")
        return self._emulator.receive_reaction(wa_id, message.id, emoji, name)

    def _receive_contacts(self, wa_id: str, body: dict[str, Any], name: str | None) -> ChatMessage:
        cards = body.get("contacts")
        if not isinstance(cards, list) or not 1 <= len(cards) <= CONTACTS_MAX:
            raise ControlError(f"contacts must be a list of 1 to {CONTACTS_MAX} contact cards")
        return self._emulator.receive_contacts(wa_id, [_contact(card) for card in cards], name)

    def _business_message(
        self, wa_id: str, message_id: object, what: str = "context_id"
    ) -> ChatMessage:
        """A message the business sent to this user, which the phone can reply or react to."""
        if not isinstance(message_id, str) or not message_id:
            raise ControlError(f"{what} (a message the business sent) is required")
        found = self._emulator.state.find_message(message_id)
        if found is None or found[0].wa_id != wa_id or found[1].direction != "out":
            raise ControlError(f"{message_id} is not a message the business sent to {wa_id}")
        return found[1]

    def _tapped_button(self, wa_id: str, body: dict[str, Any]) -> tuple[str, dict[str, str]]:
        """The business message and reply button a button_reply refers to.

        A phone can only tap buttons it was sent, so the reply must name a message with
        buttons that went to this user; this catches tests that tap made-up buttons.
        """
        button_id = _required_string(
            body, "id", "id (the button id) is required for type 'button_reply'"
        )
        context_id = body.get("context_id")
        if not isinstance(context_id, str) or not context_id:
            raise ControlError("context_id (the message with the buttons) is required")
        message = self._business_message(wa_id, context_id)
        reply = message.button(button_id)
        if reply is None:
            raise ControlError(f"message {context_id} has no reply button with id {button_id!r}")
        title = body.get("title", reply["title"])
        if title != reply["title"]:
            raise ControlError(f"the button {button_id!r} is titled {reply['title']!r}")
        return context_id, reply


def template_quick_replies(template: dict[str, Any]) -> list[dict[str, str]]:
    """The quick-reply buttons of a template message as the chat stores it.

    Reads ``template["buttons"]`` (``[{"type": "quick_reply", "text", ["payload"]}]``) or a
    template definition's ``BUTTONS`` component. A button sent without a payload answers
    with its text as payload, as on WhatsApp.
    """
    buttons: list[Any] = list(template.get("buttons") or [])
    for component in template.get("components") or []:
        if isinstance(component, dict) and str(component.get("type", "")).lower() == "buttons":
            buttons.extend(component.get("buttons") or [])
    replies = []
    for button in buttons:
        if not isinstance(button, dict):
            continue
        kind = str(button.get("type") or button.get("sub_type") or "").lower()
        text = button.get("text")
        if kind != "quick_reply" or not isinstance(text, str):
            continue
        payload = button.get("payload")
        replies.append({"payload": payload if isinstance(payload, str) else text, "text": text})
    return replies


def _list_row(interactive: dict[str, Any], row_id: str) -> dict[str, str] | None:
    for section in interactive.get("action", {}).get("sections", []):
        for row in section.get("rows", []):
            if row.get("id") == row_id:
                found: dict[str, str] = row
                return found
    return None


def _mime_type(kind: str, media: dict[str, Any]) -> str:
    mime_type = media.get("mime_type")
    if not isinstance(mime_type, str) or not _MIME_TYPE.fullmatch(mime_type.lower()):
        raise ControlError("media.mime_type is required, like 'image/jpeg'")
    allowed = MEDIA_MIME_TYPES.get(kind)
    base = mime_type.split(";")[0].strip().lower()
    if allowed is not None and base not in allowed:
        raise ControlError(
            f"media.mime_type {mime_type!r} is not possible for a {kind}; use {', '.join(allowed)}"
        )
    return mime_type


def _decoded(kind: str, media: dict[str, Any], mime_type: str) -> bytes:
    encoded = media.get("data_base64")
    if not isinstance(encoded, str) or not encoded:
        raise ControlError("media.data_base64 (the file in base64) is required")
    limit = MEDIA_LIMITS[kind]
    # Checked before decoding, so a huge upload costs no second copy.
    if len(encoded) > (limit + 2) // 3 * 4 + 4:
        raise ControlError(f"the file is too large: a {kind} may have at most {_size(limit)}")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ControlError("media.data_base64 is not valid base64") from None
    if not data:
        raise ControlError("the file is empty")
    if len(data) > limit:
        raise ControlError(f"the file is too large: a {kind} may have at most {_size(limit)}")
    magic = MAGIC_BYTES.get(mime_type.split(";")[0].strip().lower())
    if magic is not None and not data.startswith(magic):
        raise ControlError(f"the file is not a {mime_type} file")
    return data


def _size(limit: int) -> str:
    return f"{limit // MB} MB" if limit >= MB else f"{limit // 1024} KB"


def _coordinate(body: dict[str, Any], key: str, bound: int) -> float:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ControlError(f"{key} must be a number")
    if not (math.isfinite(value) and -bound <= value <= bound):
        raise ControlError(f"{key} must be between -{bound} and {bound}")
    return float(value)


def _is_one_emoji(text: str) -> bool:
    """Loosely one emoji: short, no spaces, and not plain letters, digits or punctuation."""
    if len(text) > EMOJI_MAX_CODE_POINTS or any(character.isspace() for character in text):
        return False
    return any(ord(character) > 0x2000 for character in text)


def _contact(card: object) -> dict[str, Any]:
    if not isinstance(card, dict):
        raise ControlError("each contact must be an object")
    name = card.get("name")
    if not isinstance(name, dict) or not isinstance(name.get("formatted_name"), str):
        raise ControlError("each contact needs name.formatted_name")
    checked: dict[str, Any] = {
        "name": {key: value for key, value in name.items() if isinstance(value, str)}
    }
    phones = card.get("phones", [])
    if not isinstance(phones, list):
        raise ControlError("contact phones must be a list")
    checked_phones = []
    for phone in phones:
        if not isinstance(phone, dict) or not isinstance(phone.get("phone"), str):
            raise ControlError("each contact phone needs a phone number string")
        checked_phones.append(
            {
                key: phone[key]
                for key in ("phone", "wa_id", "type")
                if isinstance(phone.get(key), str)
            }
        )
    if checked_phones:
        checked["phones"] = checked_phones
    return checked


def _wa_id(request: Request) -> str:
    wa_id: str = request.path_params["wa_id"]
    if not (wa_id.isascii() and wa_id.isdigit() and 6 <= len(wa_id) <= 15):
        raise ControlError("the number must be 6 to 15 digits without + or spaces")
    return wa_id


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = decode_json(await request.body())
    except InvalidJson as error:
        raise ControlError(str(error)) from None
    if not isinstance(body, dict):
        raise ControlError("the request body must be a JSON object")
    return body


def _required_string(body: dict[str, Any], key: str, complaint: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise ControlError(complaint)
    return value


def _flag(body: dict[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise ControlError(f"{key} must be true or false")
    return value


def _optional_text(body: dict[str, Any], key: str, max_length: int) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ControlError(f"{key} must be a non-empty string")
    if len(value) > max_length:
        raise ControlError(f"{key} must be at most {max_length} characters long")
    return value
