"""The messenger-neutral port: what the rest of Stadtbote sends and receives.

A transport (WhatsApp today) turns an OutboundMessage into an API call and the platform's
webhooks into the inbound events below; nothing outside `channels/` knows Meta's JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


@dataclass(frozen=True, slots=True)
class Button:
    id: str
    title: str


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """Text with optional reply buttons. The recipient is passed separately, at send time,
    so that a stored or queued message never carries a phone number."""

    text: str
    buttons: tuple[Button, ...] = ()
    preview_url: bool = False
    tracker: str | None = None  # echoed back on status events (Meta: biz_opaque_callback_data)

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "buttons": [{"id": b.id, "title": b.title} for b in self.buttons],
            "preview_url": self.preview_url,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], tracker: str | None = None) -> OutboundMessage:
        return cls(
            text=data["text"],
            buttons=tuple(Button(b["id"], b["title"]) for b in data.get("buttons", [])),
            preview_url=bool(data.get("preview_url", False)),
            tracker=tracker,
        )


class TransportError(Exception):
    """A send that did not go out. `permanent` means retrying the same message is pointless;
    `retry_after` (seconds) is the platform's hint for transient throttling."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        retry_after: float | None = None,
        code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after
        self.code = code


class DeliveryStatus(StrEnum):
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class InboundText:
    sender: str  # the wa_id: digits with country code
    message_id: str
    timestamp: datetime
    text: str
    profile_name: str | None = None


@dataclass(frozen=True, slots=True)
class ButtonReply:
    sender: str
    message_id: str
    timestamp: datetime
    button_id: str
    title: str
    context_message_id: str | None = None


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    message_id: str
    status: DeliveryStatus
    timestamp: datetime
    recipient: str
    error_code: int | None = None
    error_title: str | None = None
    pricing_category: str | None = None
    billable: bool | None = None
    tracker: str | None = None


@dataclass(frozen=True, slots=True)
class Unhandled:
    """A well-formed event Stadtbote does not act on (yet): recognised and ignored safely."""

    kind: str
    details: dict[str, Any] = field(default_factory=dict)


InboundEvent = InboundText | ButtonReply | StatusUpdate | Unhandled
