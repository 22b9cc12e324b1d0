"""What the emulator remembers: simulated citizens, their chats and every accepted send."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

Direction = Literal["in", "out"]

# Outgoing messages only move forward through these; a late timer never moves one back.
OUTGOING_STATUSES = ("accepted", "sent", "delivered", "read")
# An outgoing message that failed (an asynchronous policy error) stays failed.
FAILED = "failed"


@dataclass
class ChatMessage:
    """One message in a chat, seen from the business: "in" from the citizen, "out" to them."""

    id: str
    direction: Direction
    timestamp: int
    type: str
    # Outgoing: accepted, sent, delivered, read. Incoming: received, or read once the
    # business marked it read.
    status: str
    text: str | None = None
    interactive: dict[str, Any] | None = None
    context_id: str | None = None
    biz_opaque_callback_data: str | None = None
    # The media object of an image, document, audio, video or sticker, as the webhook has it
    # ({"id", "mime_type", "sha256", ["caption"], ["filename"], ...}).
    media: dict[str, Any] | None = None
    # {"latitude", "longitude", ["name"], ["address"]}
    location: dict[str, Any] | None = None
    # {"message_id", "emoji"}; an empty emoji takes a reaction back.
    reaction: dict[str, Any] | None = None
    # A tap on a template's quick-reply button: {"payload", "text"} (the type is "button").
    template_button: dict[str, str] | None = None
    # Shared contact cards, as in the webhook's "contacts" list.
    contacts: list[dict[str, Any]] | None = None
    # The citizen forwarded this message instead of writing it.
    forwarded: bool = False
    # A business template send as the phone shows it: {"name", "language", "category",
    # ["header": {"format", "text" | "media" | "location"}], "body": the text with the
    # placeholders filled, ["footer"], "buttons": [{"type": "quick_reply" | "url", "index",
    # "text", ["payload"], ["url"]}]}. ``text`` holds the same rendered body.
    template: dict[str, Any] | None = None
    # Outgoing only: the category Meta prices the message in. "service" for free-form
    # messages (text, media, location, interactive, reactions), the template's category
    # ("marketing", "utility", "authentication") for templates. Set by Emulator.accept().
    pricing_category: str | None = None
    # The phone opened the chat before this message was delivered; it becomes read right
    # after delivery so the status order stays sent, delivered, read.
    read_requested: bool = False
    # Outgoing: the ``pricing`` object of its statuses and, once failed, the error of its
    # ``failed`` status (policy.py decides both when the send is accepted).
    pricing: dict[str, Any] | None = None
    error: dict[str, Any] | None = None

    def has_reached(self, status: str) -> bool:
        if self.status == FAILED:
            return True
        if status == FAILED:
            return False
        return OUTGOING_STATUSES.index(self.status) >= OUTGOING_STATUSES.index(status)

    @property
    def is_reaction(self) -> bool:
        """A reaction: Meta reports only ``sent`` for it, never ``delivered`` or ``read``."""
        return self.type == "reaction"

    def button(self, button_id: str) -> dict[str, str] | None:
        """The reply button with this id, if this is a business message with buttons."""
        if self.direction != "out" or self.interactive is None:
            return None
        # List messages have sections instead of buttons.
        for button in self.interactive.get("action", {}).get("buttons", []):
            reply: dict[str, str] = button["reply"]
            if reply["id"] == button_id:
                return reply
        return None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "direction": self.direction,
            "timestamp": self.timestamp,
            "type": self.type,
        }
        if self.text is not None:
            data["text"] = self.text
        if self.interactive is not None:
            data["interactive"] = self.interactive
        for key in ("media", "location", "reaction", "contacts", "template"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        if self.template_button is not None:
            data["button"] = self.template_button
        if self.forwarded:
            data["forwarded"] = True
        if self.context_id is not None:
            data["context_id"] = self.context_id
        data["status"] = self.status
        return data


@dataclass
class User:
    """A simulated citizen, keyed by the digits of their number (the wa_id)."""

    wa_id: str
    name: str | None = None
    messages: list[ChatMessage] = field(default_factory=list)
    # Policy (policy.py): the number has WhatsApp; the user blocked the business; stopped
    # marketing messages in WhatsApp; reached Meta's cross-business marketing cap (131049).
    on_whatsapp: bool = True
    blocked: bool = False
    marketing_stopped: bool = False
    marketing_cap_reached: bool = False
    # Clock time of the user's last message to the business; it opens the service window.
    last_inbound_at: float | None = None
    # Clock times of the marketing templates the user got, for the rolling 24-hour cap.
    marketing_received: deque[float] = field(default_factory=deque)

    def unread(self) -> list[ChatMessage]:
        """Business messages the phone has not shown yet."""
        return [
            message
            for message in self.messages
            if message.direction == "out"
            and message.status not in ("read", FAILED)
            and not message.read_requested
        ]

    def summary(self) -> dict[str, Any]:
        incoming = sum(1 for message in self.messages if message.direction == "in")
        return {
            "wa_id": self.wa_id,
            "name": self.name,
            "messages": len(self.messages),
            "incoming": incoming,
            "outgoing": len(self.messages) - incoming,
            "unread": len(self.unread()),
        }


@dataclass(frozen=True)
class SentRecord:
    """One accepted Graph API send, kept so tests can prove who got what how often."""

    id: str
    timestamp: int
    phone_number_id: str
    to: str
    wa_id: str
    type: str
    body: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "timestamp": self.timestamp,
            "phone_number_id": self.phone_number_id,
            "to": self.to,
            "wa_id": self.wa_id,
            "type": self.type,
            "body": self.body,
        }


@dataclass(frozen=True)
class MediaItem:
    """One stored file: a citizen's photo or a business upload."""

    id: str
    data: bytes
    mime_type: str
    filename: str | None = None

    @property
    def sha256(self) -> str:
        """The SHA-256 of the bytes in base64, as message webhooks carry it."""
        return base64.b64encode(hashlib.sha256(self.data).digest()).decode("ascii")


class MediaStore:
    """Files by media id, for ``GET /{version}/{media_id}`` and the phone page.

    Media ids are numeric strings like Meta's. ``limit`` caps the bytes kept in memory (the
    emulator sets it from ``EmulatorConfig.media_storage_limit``): when a new file would go
    over it, the oldest files are dropped first, as Meta expires media after a while. A
    single file larger than the whole limit is refused with ValueError.
    """

    def __init__(self, limit: int | None = None) -> None:
        self._items: dict[str, MediaItem] = {}
        self.limit = limit
        self._total = 0

    @property
    def total_bytes(self) -> int:
        return self._total

    def add(self, data: bytes, mime_type: str, filename: str | None = None) -> str:
        if self.limit is not None:
            if len(data) > self.limit:
                raise ValueError(f"the file is larger than the media limit of {self.limit} bytes")
            while self._items and self._total + len(data) > self.limit:
                self.delete(next(iter(self._items)))
        media_id = str(10**15 + secrets.randbelow(9 * 10**15))
        while media_id in self._items:
            media_id = str(10**15 + secrets.randbelow(9 * 10**15))
        self._items[media_id] = MediaItem(media_id, data, mime_type, filename)
        self._total += len(data)
        return media_id

    def get(self, media_id: str) -> MediaItem | None:
        return self._items.get(media_id)

    def delete(self, media_id: str) -> bool:
        item = self._items.pop(media_id, None)
        if item is None:
            return False
        self._total -= len(item.data)
        return True

    def clear(self) -> None:
        self._items.clear()
        self._total = 0


class EmulatorState:
    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.sent: list[SentRecord] = []
        self.media = MediaStore()
        self._messages: dict[str, tuple[User, ChatMessage]] = {}

    def user(self, wa_id: str) -> User:
        """The citizen with this number, created on first contact."""
        if wa_id not in self.users:
            self.users[wa_id] = User(wa_id=wa_id)
        return self.users[wa_id]

    def add_message(self, user: User, message: ChatMessage) -> None:
        user.messages.append(message)
        self._messages[message.id] = (user, message)

    def find_message(self, message_id: str) -> tuple[User, ChatMessage] | None:
        return self._messages.get(message_id)

    def clear(self) -> None:
        self.users.clear()
        self.sent.clear()
        self.media.clear()
        self._messages.clear()
