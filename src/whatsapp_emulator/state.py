"""What the emulator remembers: simulated citizens, their chats and every accepted send."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Direction = Literal["in", "out"]

# Outgoing messages only move forward through these; a late timer never moves one back.
OUTGOING_STATUSES = ("accepted", "sent", "delivered", "read")


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
    # The phone opened the chat before this message was delivered; it becomes read right
    # after delivery so the status order stays sent, delivered, read.
    read_requested: bool = False

    def has_reached(self, status: str) -> bool:
        return OUTGOING_STATUSES.index(self.status) >= OUTGOING_STATUSES.index(status)

    def button(self, button_id: str) -> dict[str, str] | None:
        """The reply button with this id, if this is a business message with buttons."""
        if self.direction != "out" or self.interactive is None:
            return None
        for button in self.interactive["action"]["buttons"]:
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

    def unread(self) -> list[ChatMessage]:
        """Business messages the phone has not shown yet."""
        return [
            message
            for message in self.messages
            if message.direction == "out"
            and message.status != "read"
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


class EmulatorState:
    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.sent: list[SentRecord] = []
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
        self._messages.clear()
