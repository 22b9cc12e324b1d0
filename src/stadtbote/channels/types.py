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
class Row:
    """One choice in a list menu."""

    id: str
    title: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class Menu:
    """A list the citizen opens with a button and picks one row from (WhatsApp: at most ten
    rows; titles short). Used where more than three choices are offered."""

    button: str
    rows: tuple[Row, ...]


@dataclass(frozen=True, slots=True)
class TemplateUse:
    """A pre-approved template with its variables filled in, for outside the 24-hour window."""

    name: str
    language: str
    parameters: tuple[str, ...] = ()
    # The payload each quick-reply button sends back when tapped, in the buttons' order.
    quick_replies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """Text with optional reply buttons or a list menu, or a template. The recipient is passed
    separately, at send time, so that a stored or queued message never carries a number.
    For a template, `text` is what the citizen will read (for previews and records)."""

    text: str
    buttons: tuple[Button, ...] = ()
    menu: Menu | None = None
    template: TemplateUse | None = None
    preview_url: bool = False
    tracker: str | None = None  # echoed back on status events (Meta: biz_opaque_callback_data)
    # An image Meta fetches by this public URL; `text` becomes its caption (max. 1,024).
    image_url: str | None = None

    def __post_init__(self) -> None:
        parts = (self.buttons, self.menu, self.template, self.image_url)
        if sum(bool(x) for x in parts) > 1:
            raise ValueError("a message has reply buttons, a list menu, a template or an image")

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "text": self.text,
            "buttons": [{"id": b.id, "title": b.title} for b in self.buttons],
            "preview_url": self.preview_url,
        }
        if self.menu is not None:
            data["menu"] = {
                "button": self.menu.button,
                "rows": [
                    {"id": r.id, "title": r.title, "description": r.description}
                    for r in self.menu.rows
                ],
            }
        if self.template is not None:
            data["template"] = {
                "name": self.template.name,
                "language": self.template.language,
                "parameters": list(self.template.parameters),
                "quick_replies": list(self.template.quick_replies),
            }
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any], tracker: str | None = None) -> OutboundMessage:
        menu = data.get("menu")
        template = data.get("template")
        return cls(
            text=data["text"],
            buttons=tuple(Button(b["id"], b["title"]) for b in data.get("buttons", [])),
            menu=(
                Menu(menu["button"], tuple(Row(**row) for row in menu["rows"])) if menu else None
            ),
            template=(
                TemplateUse(
                    template["name"],
                    template["language"],
                    tuple(template.get("parameters", ())),
                    tuple(template.get("quick_replies", ())),
                )
                if template
                else None
            ),
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
    context_message_id: str | None = None  # the message it quotes, if any
    forwarded: bool = False  # forwarded once or many times: a signal of sharing
    user_id: str | None = None  # business-scoped user id (BSUID), where Meta sends one


class ChoiceSource(StrEnum):
    BUTTON = "button"  # an interactive reply button
    LIST = "list"  # a row of an interactive list
    QUICK_REPLY = "quick_reply"  # a template's quick-reply button


@dataclass(frozen=True, slots=True)
class Choice:
    """The citizen tapped a button or picked a list row of one of our messages."""

    sender: str
    message_id: str
    timestamp: datetime
    choice_id: str
    title: str
    source: ChoiceSource
    context_message_id: str | None = None
    user_id: str | None = None  # business-scoped user id (BSUID), where Meta sends one


@dataclass(frozen=True, slots=True)
class Reaction:
    """An emoji on one of our messages; `emoji` None means the reaction was taken back."""

    sender: str
    message_id: str
    timestamp: datetime
    target_message_id: str
    emoji: str | None


@dataclass(frozen=True, slots=True)
class Location:
    sender: str
    message_id: str
    timestamp: datetime
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None
    forwarded: bool = False
    user_id: str | None = None  # business-scoped user id (BSUID), where Meta sends one


@dataclass(frozen=True, slots=True)
class Media:
    """A photo, document, voice message, video or sticker; the bytes are fetched by media id."""

    sender: str
    message_id: str
    timestamp: datetime
    kind: str  # image, document, audio, video, sticker
    media_id: str
    mime_type: str
    sha256: str | None = None
    caption: str | None = None
    filename: str | None = None
    voice: bool = False
    forwarded: bool = False
    user_id: str | None = None  # business-scoped user id (BSUID), where Meta sends one


@dataclass(frozen=True, slots=True)
class UnsupportedMessage:
    """A citizen sent something the platform cannot pass on (a native poll, a GIF, …)."""

    sender: str
    message_id: str
    timestamp: datetime
    kind: str
    user_id: str | None = None  # business-scoped user id (BSUID), where Meta sends one


@dataclass(frozen=True, slots=True)
class NumberChanged:
    sender: str  # the old number
    message_id: str
    timestamp: datetime
    new_number: str


@dataclass(frozen=True, slots=True)
class MarketingPreference:
    """The citizen used WhatsApp's own "stop/resume marketing messages" control."""

    sender: str
    timestamp: datetime
    stopped: bool


@dataclass(frozen=True, slots=True)
class TemplateStatusChanged:
    name: str
    language: str
    status: str  # APPROVED, REJECTED, PAUSED, …
    reason: str | None = None


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


CitizenMessage = InboundText | Choice | Location | Media | UnsupportedMessage
InboundEvent = (
    CitizenMessage
    | Reaction
    | NumberChanged
    | MarketingPreference
    | TemplateStatusChanged
    | StatusUpdate
    | Unhandled
)
