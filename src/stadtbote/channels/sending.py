"""The process's send loop: one asyncio loop in a thread, one pooled HTTP session, one pacer.

Worker threads (huey) hand it batches; it sends them concurrently within the pace and gives
back, per item, Meta's message id or the TransportError.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from django.conf import settings

from stadtbote.channels.pacing import LocalPacer, Pacer, RedisPacer
from stadtbote.channels.types import OutboundMessage, TransportError
from stadtbote.channels.whatsapp.transport import WhatsAppConfig, WhatsAppTransport

MAX_IN_FLIGHT = 64
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=20, connect=5)


@dataclass(frozen=True)
class Outgoing:
    to: str
    message: OutboundMessage


SendResult = str | TransportError


class SendLoop:
    _instance: SendLoop | None = None
    _instance_lock = threading.Lock()

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="send-loop", daemon=True
        )
        self._thread.start()
        self._transport: WhatsAppTransport | None = None
        self._pacer: Pacer | None = None
        self._session: aiohttp.ClientSession | None = None
        self._redis: aioredis.Redis | None = None

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

    def send_many(self, items: Sequence[Outgoing]) -> list[SendResult]:
        future: Future[list[SendResult]] = asyncio.run_coroutine_threadsafe(
            self._send_many(items), self._loop
        )
        return future.result()

    async def _setup(self) -> tuple[WhatsAppTransport, Pacer]:
        if self._transport is None or self._pacer is None:
            connector = aiohttp.TCPConnector(limit=MAX_IN_FLIGHT)
            self._session = aiohttp.ClientSession(connector=connector, timeout=REQUEST_TIMEOUT)
            self._transport = WhatsAppTransport(self._session, WhatsAppConfig.from_settings())
            rate = float(settings.WHATSAPP_MESSAGES_PER_SECOND)
            if settings.REDIS_URL:
                self._redis = aioredis.from_url(settings.REDIS_URL)
                self._pacer = RedisPacer(self._redis, rate)
            else:
                self._pacer = LocalPacer(rate)
        return self._transport, self._pacer

    async def _send_many(self, items: Sequence[Outgoing]) -> list[SendResult]:
        transport, pacer = await self._setup()
        gate = asyncio.Semaphore(MAX_IN_FLIGHT)

        async def one(item: Outgoing) -> SendResult:
            async with gate:
                await pacer.acquire(transport.sender_key)
                try:
                    return await transport.send(item.to, item.message)
                except TransportError as exc:
                    return exc

        return list(await asyncio.gather(*(one(i) for i in items)))

    def _close(self) -> None:
        async def close() -> Any:
            if self._session is not None:
                await self._session.close()
            if self._redis is not None:
                await self._redis.aclose()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
