"""Delivering webhooks to the app the way Meta does: signed, retried, at least once.

One background worker sends events one after another in the order they were queued, so
statuses generated in order arrive in order while the receiver answers 200. A failed
delivery is queued again with exponential backoff; the worker goes on with other events in
the meantime, which reorders events exactly as a flaky receiver would see with Meta.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import heapq
import hmac
import itertools
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx

from whatsapp_emulator.config import EmulatorConfig

logger = logging.getLogger(__name__)


def sign(app_secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` header value for a body, as Meta computes it."""
    digest = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def retry_delay(failed_attempt: int, base: float, cap: float) -> float:
    """Seconds to wait after the given attempt (1 = first) failed: base, 2x base, ... cap."""
    # The exponent is bounded so large attempt counts cannot overflow the float.
    return min(cap, base * 2.0 ** min(failed_attempt - 1, 64))


@dataclass(frozen=True)
class WebhookEvent:
    """A webhook body ready to send; ``body`` is final so every retry sends the same bytes."""

    kind: str  # "status" or "message"
    detail: str  # the status (sent, delivered, read) or the inbound message type
    message_id: str
    body: bytes


@dataclass(frozen=True)
class DeliveryAttempt:
    time: float
    url: str | None
    attempt: int
    kind: str
    detail: str
    message_id: str
    ok: bool
    status_code: int | None
    error: str | None
    # Seconds until the next attempt; None when delivered or given up.
    next_retry_in: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "url": self.url,
            "attempt": self.attempt,
            "kind": self.kind,
            "detail": self.detail,
            "message_id": self.message_id,
            "ok": self.ok,
            "status_code": self.status_code,
            "error": self.error,
            "next_retry_in": self.next_retry_in,
        }


@dataclass(frozen=True)
class _Delivery:
    event: WebhookEvent
    attempt: int


class WebhookSender:
    def __init__(self, config: EmulatorConfig) -> None:
        self._config = config
        self.attempts: list[DeliveryAttempt] = []
        # (due time on the monotonic clock, sequence number for FIFO among equals, delivery)
        self._queue: list[tuple[float, int, _Delivery]] = []
        self._sequence = itertools.count()
        self._wakeup = asyncio.Event()
        self._in_flight = 0
        # Bumped by clear() so a delivery that was in flight during a reset leaves no trace.
        self._generation = 0
        self._client: httpx.AsyncClient | None = None
        self._worker: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        """Events not yet delivered or given up, including one being sent right now."""
        return len(self._queue) + self._in_flight

    async def start(self) -> None:
        # trust_env=False: a proxy set for the machine must not sit between the emulator
        # and the app, where it would change what arrives (or swallow local addresses).
        self._client = httpx.AsyncClient(timeout=self._config.webhook_timeout, trust_env=False)
        # A fresh event binds to the running loop; events queued before start are kept.
        self._wakeup = asyncio.Event()
        if self._queue:
            self._wakeup.set()
        self._worker = asyncio.create_task(self._run(), name="webhook-sender")

    async def stop(self) -> None:
        """Stop sending; events still queued are dropped, as when Meta's retries run out."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def send(self, event: WebhookEvent) -> None:
        self._schedule(_Delivery(event, attempt=1), due=time.monotonic())

    def clear(self) -> None:
        self._queue.clear()
        self.attempts.clear()
        self._generation += 1

    async def verify_subscription(self, url: str, verify_token: str) -> dict[str, Any]:
        """Do Meta's GET handshake against ``url`` and report whether it passed."""
        challenge = str(secrets.randbelow(2**31 - 1) + 1)
        params = {
            "hub.mode": "subscribe",
            "hub.verify_token": verify_token,
            "hub.challenge": challenge,
        }
        result: dict[str, Any] = {"ok": False, "url": url, "challenge": challenge}
        try:
            response = await self._http().get(url, params=params)
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            return {**result, "status_code": None, "body": None, "error": _describe(error)}
        ok = response.status_code == 200 and response.text == challenge
        return {
            **result,
            "ok": ok,
            "status_code": response.status_code,
            # Enough of the answer to see what the receiver said instead of the challenge.
            "body": response.text[:500],
            "error": None if ok else "the receiver did not answer 200 with the exact challenge",
        }

    def _schedule(self, delivery: _Delivery, due: float) -> None:
        heapq.heappush(self._queue, (due, next(self._sequence), delivery))
        self._wakeup.set()

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            raise RuntimeError("the webhook sender has not been started")
        return self._client

    async def _run(self) -> None:
        while True:
            if not self._queue:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            due = self._queue[0][0]
            wait = due - time.monotonic()
            if wait > 0:
                # Sleep until the earliest retry is due, or until something new is queued.
                self._wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), timeout=wait)
                continue
            _, _, delivery = heapq.heappop(self._queue)
            self._in_flight = 1
            try:
                await self._deliver(delivery)
            finally:
                self._in_flight = 0

    async def _deliver(self, delivery: _Delivery) -> None:
        url = self._config.webhook_url
        if url is None:
            self._record(delivery, None, None, "no webhook URL configured", None)
            return
        generation = self._generation
        status_code: int | None = None
        error: str | None = None
        try:
            response = await self._http().post(
                url,
                content=delivery.event.body,
                headers={
                    "Content-Type": "application/json",
                    "X-Hub-Signature-256": sign(self._config.app_secret, delivery.event.body),
                },
            )
            status_code = response.status_code
            if status_code != 200:
                # Meta counts only 200 as delivered, not 201 or 204.
                error = f"HTTP {status_code}"
        except (httpx.HTTPError, httpx.InvalidURL) as failure:
            error = _describe(failure)
        if generation != self._generation:
            return
        next_retry_in: float | None = None
        if error is not None:
            if delivery.attempt < self._config.max_attempts:
                next_retry_in = retry_delay(
                    delivery.attempt, self._config.retry_base_delay, self._config.retry_max_delay
                )
                self._schedule(
                    _Delivery(delivery.event, delivery.attempt + 1),
                    due=time.monotonic() + next_retry_in,
                )
            logger.warning(
                "Webhook %s %s for %s failed (attempt %d of %d): %s",
                delivery.event.kind,
                delivery.event.detail,
                delivery.event.message_id,
                delivery.attempt,
                self._config.max_attempts,
                error,
            )
        self._record(delivery, url, status_code, error, next_retry_in)

    def _record(
        self,
        delivery: _Delivery,
        url: str | None,
        status_code: int | None,
        error: str | None,
        next_retry_in: float | None,
    ) -> None:
        event = delivery.event
        self.attempts.append(
            DeliveryAttempt(
                time=time.time(),
                url=url,
                attempt=delivery.attempt,
                kind=event.kind,
                detail=event.detail,
                message_id=event.message_id,
                ok=error is None,
                status_code=status_code,
                error=error,
                next_retry_in=next_retry_in,
            )
        )


def _describe(error: Exception) -> str:
    # httpx exceptions often have an empty message; the class name says what happened.
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
