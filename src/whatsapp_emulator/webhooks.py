"""Delivering webhooks to the app the way Meta does: signed, retried, at least once.

A dispatcher takes due deliveries from a queue and POSTs up to ``webhook_concurrency`` of them
at once, so one slow answer does not hold up everything. Events share an ordering key (a
message's statuses share its id, a citizen's messages their number); an event waits while an
earlier one with its key is in flight, so statuses arrive as sent, delivered, read while the
receiver answers 200. A failed delivery is queued again with exponential backoff and no longer
holds back its key: later events overtake it, exactly as a flaky receiver sees with Meta.

What else Meta does to receivers can be switched on (``EmulatorConfig``) or injected
(``faults.py``, route ``webhooks``): duplicates of delivered bodies, reordering (events held
back a moment and shuffled, seeded), several events in one POST (``changes[]`` of one entry),
lost events and slow deliveries. Every body is compact JSON and the signature covers exactly
the bytes sent; a retry or duplicate resends the same bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import heapq
import hmac
import itertools
import logging
import random
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from whatsapp_emulator.clock import Clock
from whatsapp_emulator.config import EmulatorConfig
from whatsapp_emulator.faults import WEBHOOK_ROUTE, Faults
from whatsapp_emulator.jsonio import encode_compact

logger = logging.getLogger(__name__)

NO_URL = "no webhook URL configured"
# What Meta's webhook requests identify themselves as.
USER_AGENT = "facebookexternalua"
DROPPED = "dropped by fault injection"


def sign(app_secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` header value for a body, as Meta computes it."""
    digest = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def retry_delay(failed_attempt: int, base: float, cap: float) -> float:
    """Seconds to wait after the given attempt (1 = first) failed: base, 2x base, ... cap."""
    # The exponent is bounded so large attempt counts cannot overflow the float.
    return min(cap, base * 2.0 ** min(failed_attempt - 1, 64))


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """One change of a webhook: a ``value`` for a subscription ``field``, or a whole body.

    The value is final once queued; it is encoded when first sent, and every retry or
    duplicate sends the very same bytes. An event given as a finished ``body`` (an envelope
    with fields of its own, such as ``entry[].time``) is sent as it is and never batched.
    """

    kind: str  # "status", "message", "user_preferences", "template", ...
    detail: str  # the status, the inbound message type or the preference (stop, resume)
    message_id: str | None
    body: bytes | None = None
    value: dict[str, Any] | None = None
    field: str = "messages"
    # Events with the same key are delivered in the order queued; None: the message id.
    key: str | None = None

    def __post_init__(self) -> None:
        if (self.body is None) == (self.value is None):
            raise ValueError("a webhook event needs either a value or a body")

    @property
    def ordering_key(self) -> str:
        return self.key if self.key is not None else (self.message_id or self.kind)

    def change(self) -> bytes:
        return encode_compact({"value": self.value, "field": self.field})


# Not frozen: a frozen dataclass sets each field through object.__setattr__, and one of these
# is made for every status of every send.
@dataclass(slots=True)
class DeliveryAttempt:
    time: float
    url: str | None
    attempt: int
    kind: str
    detail: str
    message_id: str | None
    ok: bool
    status_code: int | None
    error: str | None
    # Seconds until the next attempt; None when delivered or given up.
    next_retry_in: float | None
    # Events in the POST (batching) and whether it repeated a delivered body on purpose.
    batch: int = 1
    duplicate: bool = False

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
            "batch": self.batch,
            "duplicate": self.duplicate,
        }


@dataclass(slots=True)
class _Delivery:
    events: tuple[WebhookEvent, ...]
    attempt: int = 1
    body: bytes | None = None
    duplicate: bool = False
    keys: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not self.keys:
            self.keys = frozenset(event.ordering_key for event in self.events)


_Queued = tuple[float, int, _Delivery]


class WebhookSender:
    def __init__(
        self, config: EmulatorConfig, clock: Clock | None = None, faults: Faults | None = None
    ) -> None:
        self._config = config
        self._clock = clock or Clock()
        self._faults = faults or Faults()
        self.attempts: deque[DeliveryAttempt] = deque(maxlen=config.webhook_log_limit)
        # (due time on the monotonic clock, sequence number for FIFO among equals, delivery)
        self._queue: list[_Queued] = []
        self._sequence = itertools.count()
        # Deliveries waiting for an earlier one with the same key, by that key, in order.
        self._parked: dict[str, deque[_Queued]] = {}
        self._parked_count = 0
        self._busy: set[str] = set()
        # Events held back to be shuffled (reordering), and when they must go at the latest.
        self._held: list[WebhookEvent] = []
        self._held_until = 0.0
        # Seeded for repeatable tests, not for secrets.
        self._rng = random.Random(_seed(config.seed, "webhooks"))  # noqa: S311
        self._wakeup = asyncio.Event()
        self._in_flight = 0
        self._tasks: set[asyncio.Task[None]] = set()
        # Bumped by clear() so a delivery that was in flight during a reset leaves no trace.
        self._generation = 0
        self._client: aiohttp.ClientSession | None = None
        self._worker: asyncio.Task[None] | None = None
        self._prefix = b""
        self._set_prefix()

    @property
    def pending(self) -> int:
        """Events not yet delivered or given up, including those being sent right now."""
        return len(self._queue) + self._parked_count + len(self._held) + self._in_flight

    @property
    def in_flight(self) -> int:
        """POSTs under way right now."""
        return self._in_flight

    def reconfigure(self, config: EmulatorConfig) -> None:
        old = self._config
        self._config = config
        if old.webhook_log_limit != config.webhook_log_limit:
            self.attempts = deque(self.attempts, maxlen=config.webhook_log_limit)
        if old.seed != config.seed:
            self._rng = random.Random(_seed(config.seed, "webhooks"))  # noqa: S311
        if config.webhook_reorder_window < 2 and self._held:
            self._release_held()
        self._wakeup.set()

    async def start(self) -> None:
        # aiohttp rather than httpx: a POST costs a fraction of the CPU, which is what limits
        # how many statuses per second reach the app. trust_env=False: a proxy set for the
        # machine must not sit between the emulator and the app, where it would change what
        # arrives (or swallow local addresses).
        self._client = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=256),
            timeout=aiohttp.ClientTimeout(total=self._config.webhook_timeout),
            trust_env=False,
            headers={"User-Agent": USER_AGENT},
            auto_decompress=False,
        )
        # A fresh event binds to the running loop; events queued before start are kept.
        self._wakeup = asyncio.Event()
        if self._queue or self._held:
            self._wakeup.set()
        self._worker = asyncio.create_task(self._run(), name="webhook-sender")

    async def stop(self) -> None:
        """Stop sending; events still queued are dropped, as when Meta's retries run out."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.close()
            self._client = None

    @property
    def delivering(self) -> bool:
        """Whether events go anywhere; without a URL they are only logged."""
        return self._config.webhook_url is not None

    def log_undelivered(self, kind: str, detail: str, message_id: str | None) -> None:
        """Log an event that has nowhere to go, without building its body (the fast path)."""
        self.attempts.append(
            DeliveryAttempt(
                self._clock.time(), None, 1, kind, detail, message_id, False, None, NO_URL, None
            )
        )

    def send(self, event: WebhookEvent) -> None:
        if self._config.webhook_url is None:
            # Nothing to deliver to: the log shows what would have gone out, in order.
            self.log_undelivered(event.kind, event.detail, event.message_id)
            return
        if self._config.webhook_reorder_window >= 2:
            self._held.append(event)
            if len(self._held) == 1:
                self._held_until = time.monotonic() + self._config.webhook_reorder_hold
            if len(self._held) >= self._config.webhook_reorder_window:
                self._release_held()
            self._wakeup.set()
            return
        self._schedule(_Delivery((event,)), due=time.monotonic())

    def clear(self) -> None:
        self._queue.clear()
        self._parked.clear()
        self._parked_count = 0
        self._held.clear()
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
            async with self._http().get(url, params=params, allow_redirects=False) as response:
                status_code = response.status
                text = (await response.read()).decode("utf-8", errors="replace")
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            return {**result, "status_code": None, "body": None, "error": _describe(error)}
        ok = status_code == 200 and text == challenge
        return {
            **result,
            "ok": ok,
            "status_code": status_code,
            # Enough of the answer to see what the receiver said instead of the challenge.
            "body": text[:500],
            "error": None if ok else "the receiver did not answer 200 with the exact challenge",
        }

    # --- the queue ---------------------------------------------------------------------

    def _schedule(self, delivery: _Delivery, due: float) -> None:
        heapq.heappush(self._queue, (due, next(self._sequence), delivery))
        self._wakeup.set()

    def _release_held(self) -> None:
        held, self._held = self._held, []
        self._rng.shuffle(held)
        now = time.monotonic()
        for event in held:
            self._schedule(_Delivery((event,)), due=now)

    def _next_due(self, now: float) -> _Delivery | None:
        """The earliest due delivery none of whose keys is in flight; parks the others."""
        queue = self._queue
        while queue and queue[0][0] <= now:
            item = heapq.heappop(queue)
            busy = next((key for key in item[2].keys if key in self._busy), None)
            if busy is None:
                return item[2]
            self._parked.setdefault(busy, deque()).append(item)
            self._parked_count += 1
        return None

    def _batch(self, first: _Delivery, now: float) -> _Delivery:
        """Up to ``webhook_batch_size`` due first-attempt events in one POST."""
        limit = self._config.webhook_batch_size
        if limit < 2 or first.attempt != 1 or first.body is not None or first.events[0].body:
            return first
        events = list(first.events)
        keys = set(first.keys)
        queue = self._queue
        while len(events) < limit and queue and queue[0][0] <= now:
            candidate = queue[0][2]
            if (
                candidate.attempt != 1
                or candidate.body is not None
                or candidate.events[0].body is not None
                or candidate.duplicate
                or any(key in self._busy for key in candidate.keys)
            ):
                break
            heapq.heappop(queue)
            events.extend(candidate.events)
            keys.update(candidate.keys)
        if len(events) == 1:
            return first
        return _Delivery(tuple(events), keys=frozenset(keys))

    def _release(self, delivery: _Delivery) -> None:
        for key in delivery.keys:
            self._busy.discard(key)
            parked = self._parked.get(key)
            if parked:
                heapq.heappush(self._queue, parked.popleft())
                self._parked_count -= 1
                if not parked:
                    del self._parked[key]
        self._wakeup.set()

    async def _run(self) -> None:
        while True:
            now = time.monotonic()
            if self._held and now >= self._held_until:
                self._release_held()
            timeout: float | None = None
            if self._in_flight < self._config.webhook_concurrency:
                delivery = self._next_due(now)
                if delivery is not None:
                    self._dispatch(self._batch(delivery, now))
                    # Let the new POST (and everything else) run before the next pick.
                    await asyncio.sleep(0)
                    continue
                if self._queue:
                    timeout = self._queue[0][0] - now
            if self._held:
                hold = max(0.0, self._held_until - now)
                timeout = hold if timeout is None else min(timeout, hold)
            self._wakeup.clear()
            if timeout is None:
                await self._wakeup.wait()
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), timeout=timeout)

    def _dispatch(self, delivery: _Delivery) -> None:
        url = self._config.webhook_url
        if url is None:
            # The URL was removed while this waited for a retry.
            self._record(delivery, None, None, NO_URL, None)
            return
        delay = 0.0
        duplicate = False
        if delivery.attempt == 1 and not delivery.duplicate:
            rule = self._faults.pick(WEBHOOK_ROUTE) if self._faults.active else None
            if rule is not None and rule.kind == "drop":
                self._record(delivery, url, None, DROPPED, None)
                return
            if rule is not None and rule.kind == "slow":
                delay = rule.seconds
            duplicate = rule is not None and rule.kind == "duplicate"
        for key in delivery.keys:
            self._busy.add(key)
        self._in_flight += 1
        task = asyncio.create_task(self._post(delivery, url, delay, duplicate))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post(self, delivery: _Delivery, url: str, delay: float, duplicate: bool) -> None:
        generation = self._generation
        try:
            if delay:
                await asyncio.sleep(delay)
            await self._deliver(delivery, url, generation, duplicate)
        finally:
            self._in_flight -= 1
            self._release(delivery)

    async def _deliver(
        self, delivery: _Delivery, url: str, generation: int, duplicate: bool
    ) -> None:
        if delivery.body is None:
            delivery.body = self._body(delivery.events)
        body = delivery.body
        status_code: int | None = None
        error: str | None = None
        try:
            async with self._http().post(
                url,
                data=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Hub-Signature-256": sign(self._config.app_secret, body),
                },
                allow_redirects=False,
            ) as response:
                status_code = response.status
                # Read the answer so the connection can carry the next webhook.
                await response.read()
            if status_code != 200:
                # Meta counts only 200 as delivered, not 201 or 204.
                error = f"HTTP {status_code}"
        except (aiohttp.ClientError, TimeoutError, ValueError) as failure:
            error = _describe(failure)
        if generation != self._generation:
            return
        next_retry_in: float | None = None
        now = time.monotonic()
        if error is None:
            if not delivery.duplicate and (
                duplicate or self._roll(self._config.webhook_duplicate_probability)
            ):
                self._schedule(
                    _Delivery(delivery.events, delivery.attempt, body, True, delivery.keys), now
                )
        elif not delivery.duplicate:
            if delivery.attempt < self._config.max_attempts:
                next_retry_in = retry_delay(
                    delivery.attempt, self._config.retry_base_delay, self._config.retry_max_delay
                )
                self._schedule(
                    _Delivery(delivery.events, delivery.attempt + 1, body, False, delivery.keys),
                    due=now + next_retry_in,
                )
            logger.warning(
                "Webhook %s %s for %s failed (attempt %d of %d): %s",
                delivery.events[0].kind,
                delivery.events[0].detail,
                delivery.events[0].message_id,
                delivery.attempt,
                self._config.max_attempts,
                error,
            )
        self._record(delivery, url, status_code, error, next_retry_in)

    def _body(self, events: tuple[WebhookEvent, ...]) -> bytes:
        """The envelope around the events' changes, byte for byte ``encode_compact`` of it."""
        if len(events) == 1 and events[0].body is not None:
            return events[0].body
        return self._prefix + b",".join(event.change() for event in events) + b"]}]}"

    def _set_prefix(self) -> None:
        head = encode_compact(
            {
                "object": "whatsapp_business_account",
                "entry": [{"id": self._config.business_account_id}],
            }
        )
        # '{"object":…,"entry":[{"id":"…"}]}' → '{"object":…,"entry":[{"id":"…","changes":['
        self._prefix = head[: -len(b"}]}")] + b',"changes":['

    def _roll(self, probability: float) -> bool:
        return probability > 0 and self._rng.random() < probability

    def _http(self) -> aiohttp.ClientSession:
        if self._client is None:
            raise RuntimeError("the webhook sender has not been started")
        return self._client

    def _record(
        self,
        delivery: _Delivery,
        url: str | None,
        status_code: int | None,
        error: str | None,
        next_retry_in: float | None,
    ) -> None:
        now = self._clock.time()
        batch = len(delivery.events)
        for event in delivery.events:
            self.attempts.append(
                DeliveryAttempt(
                    time=now,
                    url=url,
                    attempt=delivery.attempt,
                    kind=event.kind,
                    detail=event.detail,
                    message_id=event.message_id,
                    ok=error is None,
                    status_code=status_code,
                    error=error,
                    next_retry_in=next_retry_in,
                    batch=batch,
                    duplicate=delivery.duplicate,
                )
            )


def _seed(seed: int | None, purpose: str) -> str | None:
    """A seed per purpose, so one random choice does not shift the others."""
    return None if seed is None else f"{seed}:{purpose}"


def _describe(error: Exception) -> str:
    """A short reason for the log, named the same whatever HTTP client the sender uses."""
    if isinstance(error, aiohttp.ClientConnectorError):
        name = "ConnectError"
    elif isinstance(error, TimeoutError):
        return "Timeout: no answer in time"
    elif isinstance(error, aiohttp.ServerDisconnectedError):
        return "RemoteProtocolError: the receiver closed the connection without an answer"
    elif isinstance(error, aiohttp.InvalidURL):
        name = "InvalidURL"
    else:
        name = type(error).__name__
    # Client exceptions often have an empty message; the name says what happened.
    text = str(error)
    return f"{name}: {text}" if text else name
