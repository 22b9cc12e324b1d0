"""The process's send loop: one asyncio loop in a thread, one pooled HTTP session, one pacer.

Dispatchers hand it batches and get a future back at once, so that they can claim, build and
record in their own thread while it sends. It keeps one continuous stream of sends: up to
MAX_IN_FLIGHT lanes each take the next message by priority (urgent posts, then chat replies,
then other posts; within a priority in the order submitted) as soon as the pacer gives the
sending number its next slot. Only one lane at a time waits for a slot, and it picks the
message when the slot has come: an urgent message submitted now takes the next free slot, not
one behind everything already queued.

Per item the result is Meta's message id or the TransportError; `Interrupted` when the worker
stopped while the request was out, so nobody knows whether Meta accepted it.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
import redis.asyncio as aioredis
from django.conf import settings

from stadtbote.channels.pacing import LocalPacer, Pacer, RedisPacer
from stadtbote.channels.types import OutboundMessage, TransportError
from stadtbote.channels.whatsapp.transport import WhatsAppConfig, WhatsAppTransport

log = logging.getLogger(__name__)

MAX_IN_FLIGHT = 64
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=20, connect=5)
# On shutdown, requests already out get this long to come back before they are abandoned.
STOP_GRACE = 10.0
# Priorities: lower goes first.
URGENT, CHAT, BULK = 0, 1, 2


@dataclass(frozen=True)
class Outgoing:
    to: str
    message: OutboundMessage


class Interrupted(TransportError):
    """The worker stopped while the request was out: Meta may have accepted the message, so
    it must not be sent again."""

    def __init__(self) -> None:
        super().__init__("interrupted while sending", permanent=True)


SendResult = str | TransportError


class Transport(Protocol):
    """What the lanes send through: WhatsAppTransport, or a stand-in in tests."""

    @property
    def sender_key(self) -> str: ...

    async def send(self, to: str, message: OutboundMessage) -> str: ...


class _Batch:
    """The items of one submit and their results; the future resolves when all are known."""

    __slots__ = ("future", "left", "results")

    def __init__(self, size: int) -> None:
        self.future: Future[list[SendResult]] = Future()
        self.results: list[SendResult | None] = [None] * size
        self.left = size

    def done(self, index: int, result: SendResult) -> None:
        if self.results[index] is not None:
            return
        self.results[index] = result
        self.left -= 1
        if self.left == 0 and not self.future.done():
            self.future.set_result([r for r in self.results if r is not None])


# (priority, sequence, batch, index in the batch, item); the sequence makes entries unique.
_Entry = tuple[int, int, _Batch, int, Outgoing]


class SendLoop:
    _instance: SendLoop | None = None
    _instance_lock = threading.Lock()

    def __init__(self, transport: Transport | None = None, pacer: Pacer | None = None) -> None:
        """Without arguments it sends to Meta (or whatever WHATSAPP_API_BASE_URL names) at
        WHATSAPP_MESSAGES_PER_SECOND, read from the settings when the first batch comes."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="send-loop", daemon=True
        )
        self._thread.start()
        self._transport: Transport | None = transport
        self._pacer: Pacer | None = pacer
        self._session: aiohttp.ClientSession | None = None
        self._redis: aioredis.Redis | None = None
        # Only touched in the loop's thread:
        self._stream: list[_Entry] = []
        self._sequence = itertools.count()
        self._lanes: list[asyncio.Task[None]] = []
        self._turn: asyncio.Lock | None = None
        self._available: asyncio.Event | None = None
        self._unfinished: set[_Batch] = set()
        self._closing = False
        # Items submitted and not yet taken by a lane, per priority; read by dispatchers in
        # other threads.
        self._waiting = [0, 0, 0]
        self._waiting_lock = threading.Lock()

    @classmethod
    def instance(cls) -> SendLoop:
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    @classmethod
    def shutdown(cls) -> None:
        with cls._instance_lock:
            if cls._instance is not None:
                cls._instance._close()
                cls._instance = None

    def submit(self, items: Sequence[Outgoing], priority: int = BULK) -> Future[list[SendResult]]:
        """Queue the items for sending; the future gives one result per item, in order."""
        batch = _Batch(len(items))
        if not items:
            batch.future.set_result([])
            return batch.future
        if self._closing:
            raise RuntimeError("the send loop is closed")
        with self._waiting_lock:
            self._waiting[priority] += len(items)
        self._loop.call_soon_threadsafe(self._enqueue, batch, list(items), priority)
        return batch.future

    def send_many(self, items: Sequence[Outgoing], priority: int = CHAT) -> list[SendResult]:
        return self.submit(items, priority).result()

    def waiting(self, up_to: int = BULK) -> int:
        """How many submitted items of priority `up_to` or higher no lane has taken yet."""
        return sum(self._waiting[: up_to + 1])

    def _taken(self, priority: int, count: int = 1) -> None:
        with self._waiting_lock:
            self._waiting[priority] -= count

    def _enqueue(self, batch: _Batch, items: list[Outgoing], priority: int) -> None:
        if self._closing:
            self._taken(priority, len(items))
            for index in range(len(items)):
                batch.done(index, not_sent())
            return
        if not self._lanes:
            self._start_lanes()
        self._unfinished.add(batch)
        batch.future.add_done_callback(lambda _: self._unfinished.discard(batch))
        for index, item in enumerate(items):
            heapq.heappush(self._stream, (priority, next(self._sequence), batch, index, item))
        assert self._available is not None
        self._available.set()

    def _start_lanes(self) -> None:
        if self._transport is None:
            connector = aiohttp.TCPConnector(limit=MAX_IN_FLIGHT)
            # The Graph API authenticates by token; keeping cookies would cost every request.
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=REQUEST_TIMEOUT, cookie_jar=aiohttp.DummyCookieJar()
            )
            self._transport = WhatsAppTransport(self._session, WhatsAppConfig.from_settings())
        if self._pacer is None:
            rate = float(settings.WHATSAPP_MESSAGES_PER_SECOND)
            if settings.REDIS_URL:
                self._redis = aioredis.from_url(settings.REDIS_URL)
                self._pacer = RedisPacer(self._redis, rate)
            else:
                self._pacer = LocalPacer(rate)
        self._turn = asyncio.Lock()
        self._available = asyncio.Event()
        self._lanes = [
            self._loop.create_task(self._lane(self._transport, self._pacer))
            for _ in range(MAX_IN_FLIGHT)
        ]

    async def _next(self, transport: Transport, pacer: Pacer) -> _Entry | None:
        """The next entry, once its slot has come; None when the loop is closing."""
        assert self._turn is not None and self._available is not None
        async with self._turn:
            while True:
                while not self._stream:
                    if self._closing:
                        return None
                    self._available.clear()
                    await self._available.wait()
                if self._closing:
                    return None
                try:
                    await pacer.acquire(transport.sender_key)
                except Exception as exc:  # Redis away: without the shared pace, nothing is sent
                    log.warning("pacer unavailable (%s); retrying in 1 s", type(exc).__name__)
                    await asyncio.sleep(1)
                    continue
                if self._closing:  # the stop gave back everything queued meanwhile
                    return None
                # Only the lane holding the turn takes entries, so the stream is not empty.
                entry = heapq.heappop(self._stream)
                self._taken(entry[0])
                return entry

    async def _lane(self, transport: Transport, pacer: Pacer) -> None:
        while True:
            entry = await self._next(transport, pacer)
            if entry is None:
                return
            _, _, batch, index, item = entry
            result: SendResult
            try:
                result = await transport.send(item.to, item.message)
            except TransportError as exc:
                result = exc
            except asyncio.CancelledError:
                batch.done(index, Interrupted())
                raise
            except Exception as exc:  # a bug, not Meta's answer: the outcome is unknown
                log.error("send raised %s", type(exc).__name__)
                result = Interrupted()
            batch.done(index, result)

    async def _stop(self) -> None:
        self._closing = True
        while self._stream:
            priority, _, batch, index, _ = heapq.heappop(self._stream)
            self._taken(priority)
            batch.done(index, not_sent())
        if self._available is not None:
            self._available.set()
        if self._lanes:
            _, late = await asyncio.wait(self._lanes, timeout=STOP_GRACE)
            for lane in late:
                lane.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        for batch in list(self._unfinished):
            for index, result in enumerate(batch.results):
                if result is None:
                    batch.done(index, Interrupted())
        if self._session is not None:
            await self._session.close()
        if self._redis is not None:
            await self._redis.aclose()

    def _close(self) -> Any:
        self._closing = True
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=STOP_GRACE + 10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


def not_sent() -> TransportError:
    """Still queued when the worker stopped: it never left, so it may go out later."""
    return TransportError("not sent: the worker stopped", permanent=False)
