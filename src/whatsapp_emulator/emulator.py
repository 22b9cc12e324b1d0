"""The emulated Cloud API behind the Graph routes, the control API and the phone page."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import Any

from whatsapp_emulator import payloads
from whatsapp_emulator.config import EmulatorConfig
from whatsapp_emulator.ids import new_wamid
from whatsapp_emulator.jsonio import encode_compact
from whatsapp_emulator.state import ChatMessage, EmulatorState, SentRecord, User
from whatsapp_emulator.throughput import TokenBucket
from whatsapp_emulator.validation import OutgoingMessage
from whatsapp_emulator.webhooks import WebhookEvent, WebhookSender


class Emulator:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.state = EmulatorState()
        self.webhooks = WebhookSender(config)
        self._throughput = self._new_throughput()
        # Status timers of outgoing messages; cancelled on reset and shutdown.
        self._timers: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        await self.webhooks.start()

    async def stop(self) -> None:
        timers = list(self._timers)
        self._cancel_timers()
        # Let the cancelled timers finish before the loop goes away.
        await asyncio.gather(*timers, return_exceptions=True)
        await self.webhooks.stop()

    def reset(self) -> None:
        """Forget users, chats, logs and queued webhooks, as if freshly started."""
        self._cancel_timers()
        self.state.clear()
        self.webhooks.clear()
        self._throughput = self._new_throughput()

    def take_throughput(self) -> bool:
        """Count one send against the number's throughput; False means error 130429."""
        return self._throughput is None or self._throughput.try_take()

    def accept(self, request: OutgoingMessage) -> ChatMessage:
        """Record an accepted send and start its sent, delivered (and read) statuses."""
        user = self.state.user(request.wa_id)
        message = ChatMessage(
            id=new_wamid(request.wa_id),
            direction="out",
            timestamp=int(time.time()),
            type=request.type,
            status="accepted",
            text=request.text,
            interactive=request.interactive,
            context_id=request.context_message_id,
            biz_opaque_callback_data=request.biz_opaque_callback_data,
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

    def receive_text(self, wa_id: str, text: str, name: str | None) -> ChatMessage:
        user = self.state.user(wa_id)
        message = ChatMessage(
            id=new_wamid(wa_id),
            direction="in",
            timestamp=int(time.time()),
            type="text",
            status="received",
            text=text,
        )
        return self._receive(user, message, name)

    def receive_button_reply(
        self, wa_id: str, reply: dict[str, str], context_id: str, name: str | None
    ) -> ChatMessage:
        """The citizen tapped the reply button ``reply`` under the message ``context_id``."""
        user = self.state.user(wa_id)
        message = ChatMessage(
            id=new_wamid(wa_id),
            direction="in",
            timestamp=int(time.time()),
            type="interactive",
            status="received",
            interactive={
                "type": "button_reply",
                "button_reply": {"id": reply["id"], "title": reply["title"]},
            },
            context_id=context_id,
        )
        return self._receive(user, message, name)

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

    def _receive(self, user: User, message: ChatMessage, name: str | None) -> ChatMessage:
        if name is not None:
            user.name = name
        elif user.name is None:
            # Meta always sends a profile name; invent a recognisable one.
            user.name = f"Testperson {user.wa_id[-4:]}"
        self.state.add_message(user, message)
        value = payloads.inbound_message_value(self.config, user, message)
        self._send_webhook("message", message.type, message.id, value)
        return message

    async def _status_timeline(self, user: User, message: ChatMessage) -> None:
        loop = asyncio.get_running_loop()
        accepted_at = loop.time()

        async def at(delay: float) -> None:
            await asyncio.sleep(max(0.0, accepted_at + delay - loop.time()))

        await at(self.config.sent_delay)
        self._advance(user, message, "sent")
        await at(self.config.delivered_delay)
        self._advance(user, message, "delivered")
        if self.config.read_delay is not None:
            await at(self.config.read_delay)
            self._advance(user, message, "read")

    def _advance(self, user: User, message: ChatMessage, status: str) -> None:
        # Timers and the phone may both try to move a message on; only forward moves count.
        if message.has_reached(status):
            return
        message.status = status
        value = payloads.status_value(self.config, user, message, status, int(time.time()))
        self._send_webhook("status", status, message.id, value)
        if status == "delivered" and message.read_requested:
            self._advance(user, message, "read")

    def _send_webhook(self, kind: str, detail: str, message_id: str, value: dict[str, Any]) -> None:
        body = encode_compact(payloads.envelope(self.config, value))
        self.webhooks.send(WebhookEvent(kind=kind, detail=detail, message_id=message_id, body=body))

    def _start_timer(self, timeline: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(timeline)
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)

    def _cancel_timers(self) -> None:
        for task in self._timers:
            task.cancel()
        self._timers.clear()

    def _new_throughput(self) -> TokenBucket | None:
        rate = self.config.messages_per_second
        return TokenBucket(rate) if rate > 0 else None
