"""The emulated Cloud API behind the Graph routes, the control API and the phone page."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any

from whatsapp_emulator import bsuid, payloads
from whatsapp_emulator.clock import Clock
from whatsapp_emulator.config import EmulatorConfig
from whatsapp_emulator.faults import Faults
from whatsapp_emulator.ids import new_wamid
from whatsapp_emulator.outgoing import chat_fields
from whatsapp_emulator.policy import Policy
from whatsapp_emulator.state import FAILED, ChatMessage, EmulatorState, SentRecord, User
from whatsapp_emulator.templates import TemplateRegistry
from whatsapp_emulator.throughput import TokenBucket
from whatsapp_emulator.timers import FifoTimers
from whatsapp_emulator.validation import OutgoingMessage
from whatsapp_emulator.webhooks import WebhookEvent, WebhookSender


class Emulator:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        # What reset() returns to; the control API may patch self.config meanwhile.
        self._initial_config = config
        self.clock = Clock(config.frozen_time)
        self.faults = Faults()
        self.policy = Policy(config, self.clock)
        self.state = EmulatorState()
        self.webhooks = WebhookSender(config, self.clock, self.faults)
        self.state.media.limit = config.media_storage_limit
        # Message templates of the business account; reset() keeps them (account setup).
        self.templates = TemplateRegistry(lambda: self.config, self.webhooks, self.clock.time)
        self._throughput = self._new_throughput()
        # Seeded for repeatable tests, not for secrets.
        self._random = random.Random(_seed(config.seed))  # noqa: S311
        # Status timers of outgoing messages; reset and shutdown clear them and bump the
        # generation, which turns a step already running into a no-op.
        self._timers = FifoTimers()
        self._generation = 0

    async def start(self) -> None:
        await self.webhooks.start()

    async def stop(self) -> None:
        self._cancel_timers()
        await self.webhooks.stop()

    def reset(self) -> None:
        """Forget users, chats, logs and queued webhooks, as if freshly started.

        Fault rules, clock advances and configuration patches are undone as well.
        """
        self._cancel_timers()
        self.state.clear()
        self.webhooks.clear()
        self.faults.clear()
        self.policy.reset()
        self.clock.reset()
        self.reconfigure(self._initial_config)
        self._throughput = self._new_throughput()

    def take_throughput(self) -> bool:
        """Count one send against the number's throughput; False means error 130429."""
        return self._throughput is None or self._throughput.try_take()

    def accept(self, request: OutgoingMessage) -> ChatMessage:
        """Record an accepted send and start its sent, delivered (and read) statuses.

        First checks what the send refers to (an uploaded media id, an approved template and
        its parameters, the message a reaction is for) and raises GraphError before anything
        is recorded or counted. The recorded message has ``pricing_category`` ("service", or
        the template's category in lower case) and ``is_reaction`` (only ``sent`` follows).
        """
        content = chat_fields(request, self.state, self.templates)
        # The pair rate limit is the one policy check that answers synchronously (131056).
        self.policy.admit(request.wa_id)
        user = self.state.user(request.wa_id)
        message = ChatMessage(
            id=new_wamid(request.wa_id),
            direction="out",
            timestamp=self.clock.timestamp(),
            type=request.type,
            status="accepted",
            context_id=request.context_message_id,
            biz_opaque_callback_data=request.biz_opaque_callback_data,
            **content,
        )
        self.state.add_message(user, message)
        self.state.sent.append(
            SentRecord(
                id=message.id,
                timestamp=message.timestamp,
                phone_number_id=self.config.phone_number_id,
                to=request.to,
                wa_id=request.wa_id,
                type=request.type,
                body=request.body,
            )
        )
        self._start_timer(self._status_timeline(user, message))
        return message

    def mark_read_by_business(self, message_id: str) -> bool:
        """The business read a citizen's message; False if there is no such message."""
        found = self.state.find_message(message_id)
        if found is None or found[1].direction != "in":
            return False
        found[1].status = "read"
        return True

    # What the citizen's phone sends. The control API has checked the input; each method
    # records the message in the chat and queues Meta's message webhook for it.

    def receive_text(
        self,
        wa_id: str,
        text: str,
        name: str | None,
        *,
        context_id: str | None = None,
        forwarded: bool = False,
    ) -> ChatMessage:
        """A text, optionally quoting the business message ``context_id`` or forwarded."""
        return self._receive_new(
            wa_id, name, "text", text=text, context_id=context_id, forwarded=forwarded
        )

    def receive_button_reply(
        self, wa_id: str, reply: dict[str, str], context_id: str, name: str | None
    ) -> ChatMessage:
        """The citizen tapped the reply button ``reply`` under the message ``context_id``."""
        interactive = {
            "type": "button_reply",
            "button_reply": {"id": reply["id"], "title": reply["title"]},
        }
        return self._receive_new(
            wa_id, name, "interactive", interactive=interactive, context_id=context_id
        )

    def receive_list_reply(
        self, wa_id: str, row: dict[str, str], context_id: str, name: str | None
    ) -> ChatMessage:
        """The citizen picked ``row`` (``{"id", "title", ["description"]}``) of a list message."""
        picked = {"id": row["id"], "title": row["title"]}
        if row.get("description"):
            picked["description"] = row["description"]
        interactive = {"type": "list_reply", "list_reply": picked}
        return self._receive_new(
            wa_id, name, "interactive", interactive=interactive, context_id=context_id
        )

    def receive_template_button(
        self, wa_id: str, payload: str, text: str, context_id: str, name: str | None
    ) -> ChatMessage:
        """The citizen tapped a quick-reply button of the template message ``context_id``."""
        tap = {"payload": payload, "text": text}
        return self._receive_new(wa_id, name, "button", template_button=tap, context_id=context_id)

    def receive_media(
        self,
        wa_id: str,
        kind: str,
        data: bytes,
        mime_type: str,
        name: str | None,
        *,
        caption: str | None = None,
        filename: str | None = None,
        voice: bool = False,
        animated: bool = False,
        forwarded: bool = False,
    ) -> ChatMessage:
        """An image, document, audio, video or sticker; the bytes go to the media store.

        The webhook carries only the media id, as with Meta: the app downloads the file with
        ``GET /{version}/{media_id}``.
        """
        media_id = self.state.media.add(data, mime_type, filename)
        stored = self.state.media.get(media_id)
        assert stored is not None
        media: dict[str, Any] = {}
        if caption is not None and kind in ("image", "video", "document"):
            media["caption"] = caption
        if kind == "document":
            media["filename"] = filename or "Dokument"
        media.update({"mime_type": mime_type, "sha256": stored.sha256, "id": media_id})
        if kind == "audio":
            media["voice"] = voice
        if kind == "sticker":
            media["animated"] = animated
        return self._receive_new(wa_id, name, kind, media=media, forwarded=forwarded)

    def receive_location(
        self, wa_id: str, location: dict[str, Any], name: str | None, *, forwarded: bool = False
    ) -> ChatMessage:
        """A pin: ``{"latitude", "longitude", ["name"], ["address"]}``."""
        return self._receive_new(
            wa_id, name, "location", location=dict(location), forwarded=forwarded
        )

    def receive_reaction(
        self, wa_id: str, message_id: str, emoji: str, name: str | None
    ) -> ChatMessage:
        """A reaction to the message ``message_id``; an empty ``emoji`` takes it back."""
        reaction = {"message_id": message_id, "emoji": emoji}
        return self._receive_new(wa_id, name, "reaction", reaction=reaction)

    def receive_contacts(
        self, wa_id: str, contacts: list[dict[str, Any]], name: str | None
    ) -> ChatMessage:
        """Shared contact cards, in the webhook's ``contacts`` shape."""
        return self._receive_new(wa_id, name, "contacts", contacts=contacts)

    def phone_reads(self, wa_id: str) -> int:
        """The citizen opens the chat: every business message not read yet becomes read.

        Messages still on their way are read right after delivery. Returns how many messages
        this call made (or will make) read.
        """
        user = self.state.users.get(wa_id)
        if user is None:
            return 0
        unread = user.unread()
        for message in unread:
            if message.has_reached("delivered"):
                self._advance(user, message, "read")
            else:
                message.read_requested = True
        return len(unread)

    def _receive_new(self, wa_id: str, name: str | None, kind: str, **fields: Any) -> ChatMessage:
        message = ChatMessage(
            id=new_wamid(wa_id),
            direction="in",
            timestamp=self.clock.timestamp(),
            type=kind,
            status="received",
            **fields,
        )
        return self._receive(self.state.user(wa_id), message, name)

    def _receive(self, user: User, message: ChatMessage, name: str | None) -> ChatMessage:
        if name is not None:
            user.name = name
        elif user.name is None:
            # Meta always sends a profile name; invent a recognisable one.
            user.name = f"Testperson {user.wa_id[-4:]}"
        self.note_inbound(user.wa_id)
        self.state.add_message(user, message)
        value = payloads.inbound_message_value(self.config, user, message)
        self._send_webhook("message", message.type, message.id, value)
        return message

    # --- policy and the status timeline -----------------------------------------------

    def note_inbound(self, wa_id: str, at: float | None = None) -> None:
        """The citizen wrote to the business: (re)open their 24-hour service window."""
        user = self.state.user(wa_id)
        user.last_inbound_at = self.clock.time() if at is None else at

    def set_marketing_preference(self, wa_id: str, stopped: bool) -> bool:
        """The citizen stops (or resumes) marketing messages in WhatsApp itself.

        Sends Meta's ``user_preferences`` webhook (contract 2.6) every time, as each tap on
        the switch does; afterwards marketing templates to them fail with 131050. Returns
        whether the preference changed.
        """
        user = self.state.user(wa_id)
        changed = user.marketing_stopped != stopped
        user.marketing_stopped = stopped
        value = payloads.user_preferences_value(
            self.config, user, "stop" if stopped else "resume", self.clock.timestamp()
        )
        if self.config.bsuid:
            bsuid.add_to_value(self.config.business_account_id, value)
        self.webhooks.send(
            WebhookEvent(
                kind="user_preferences",
                detail="stop" if stopped else "resume",
                message_id=None,
                value=value,
                field="user_preferences",
                key=f"user:{wa_id}",
            )
        )
        return changed

    def reconfigure(self, config: EmulatorConfig) -> None:
        """Switch to a patched configuration (control API); identity fields stay the same."""
        old = self.config
        self.config = config
        self.policy.reconfigure(config)
        self.webhooks.reconfigure(config)
        self.state.media.limit = config.media_storage_limit
        self.state.media.limit = config.media_storage_limit
        if old.messages_per_second != config.messages_per_second:
            self._throughput = self._new_throughput()
        if old.seed != config.seed:
            self._random = random.Random(_seed(config.seed))  # noqa: S311

    def _status_timeline(self, user: User, message: ChatMessage) -> _Timeline:
        """Decide now, on the emulator's clock, what becomes of an accepted send."""
        decision = self.policy.decide(user, message)
        message.pricing = decision.pricing
        if decision.error is not None:
            message.error = decision.error.to_json()
        return _Timeline(
            user=user,
            message=message,
            failed=decision.error is not None,
            # Reactions get only "sent" (contract 7.7).
            only_sent=message.is_reaction,
        )

    def _start_timer(self, timeline: _Timeline) -> None:
        # No task per message: each step queues the next (timers.py), so the order sent,
        # delivered, read always holds.
        timeline.generation = self._generation
        timeline.accepted_at = asyncio.get_running_loop().time()
        self._at(timeline, self.config.sent_delay, FAILED if timeline.failed else "sent")

    def _at(self, timeline: _Timeline, delay: float, status: str) -> None:
        # Same step, same delay: due in the order set, so one FIFO queue serves them all.
        self._timers.call_at(
            (status, delay), timeline.accepted_at + delay, self._step, timeline, status
        )

    def _step(self, timeline: _Timeline, status: str) -> None:
        if timeline.generation != self._generation:
            return
        user, message = timeline.user, timeline.message
        if status == "sent":
            self._advance(user, message, "sent")
            if not timeline.only_sent:
                self._at(timeline, self.config.delivered_delay, "delivered")
        elif status == "delivered":
            if self._skips_delivered(message):
                # Delivered and read at once: Meta sends only "read" (contract 2.5).
                if not message.has_reached("delivered"):
                    message.status = "delivered"
                if message.read_requested:
                    self._advance(user, message, "read")
            else:
                self._advance(user, message, "delivered")
            if self.config.read_delay is not None:
                self._at(timeline, self.config.read_delay, "read")
        else:
            self._advance(user, message, status)

    def _skips_delivered(self, message: ChatMessage) -> bool:
        probability = self.config.skip_delivered_probability
        if probability == 0 or message.has_reached("delivered"):
            return False
        read_delay = self.config.read_delay
        read_soon = message.read_requested or (
            read_delay is not None
            and read_delay - self.config.delivered_delay <= self.config.skip_delivered_within
        )
        return read_soon and self._random.random() < probability

    def _advance(self, user: User, message: ChatMessage, status: str) -> None:
        # Timers and the phone may both try to move a message on; only forward moves count.
        if message.has_reached(status):
            return
        message.status = status
        if not self.webhooks.delivering:
            # Without a webhook URL only the log records it; no body needs building.
            self.webhooks.log_undelivered("status", status, message.id)
        else:
            self._send_status(user, message, status)
        if status == "delivered" and message.read_requested:
            self._advance(user, message, "read")

    def _send_status(self, user: User, message: ChatMessage, status: str) -> None:
        value = payloads.status_value(self.config, user, message, status, self.clock.timestamp())
        if self.config.bsuid:
            # Status webhooks name the recipient in contacts[] too (pywa message_status.json).
            contact = bsuid.contact(
                self.config.business_account_id, user.wa_id, user.name, bsuid=True
            )
            statuses = value.pop("statuses")
            value["contacts"] = [contact]
            value["statuses"] = statuses
        self._send_webhook("status", status, message.id, value)

    def _send_webhook(self, kind: str, detail: str, message_id: str, value: dict[str, Any]) -> None:
        key: str | None = None
        if kind == "message":
            # A citizen's messages reach the app in the order they were written.
            sender = value.get("messages", [{}])[0].get("from")
            key = f"from:{sender}" if isinstance(sender, str) else None
            if self.config.bsuid:
                bsuid.add_to_value(self.config.business_account_id, value)
        self.webhooks.send(
            WebhookEvent(kind=kind, detail=detail, message_id=message_id, value=value, key=key)
        )

    def _cancel_timers(self) -> None:
        self._generation += 1
        self._timers.clear()

    def _new_throughput(self) -> TokenBucket | None:
        rate = self.config.messages_per_second
        return TokenBucket(rate, clock=self.clock.monotonic) if rate > 0 else None


@dataclass(slots=True)
class _Timeline:
    """The planned statuses of one accepted send."""

    user: User
    message: ChatMessage
    failed: bool
    only_sent: bool
    generation: int = 0
    accepted_at: float = 0.0


def _seed(seed: int | None) -> str | None:
    return None if seed is None else f"{seed}:timeline"
