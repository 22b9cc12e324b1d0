"""The webhook sender's behaviour: concurrency, per-message order, duplicates, reordering,
batching, a bounded log and injected delivery faults."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web

from .support import (
    APP_SECRET,
    CITIZEN,
    Received,
    emulator,
    get_when,
    send,
    text_message,
    wait_until,
)

pytestmark = pytest.mark.anyio

Gate = Callable[[Received], Awaitable[None]]


class Hook:
    """A webhook receiver whose answers a test can hold back; records every POST."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.gate: Gate | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        received = Received(await request.read(), dict(request.headers))
        self.requests.append(received)
        if self.gate is not None:
            await self.gate(received)
        return web.Response(text="ok")

    def changes(self) -> list[dict[str, Any]]:
        return [
            change
            for received in self.requests
            for entry in received.json()["entry"]
            for change in entry["changes"]
        ]

    def statuses(self) -> list[tuple[str, str]]:
        return [
            (status["id"], status["status"])
            for change in self.changes()
            for status in change["value"].get("statuses", [])
        ]

    def texts(self) -> list[str]:
        return [
            message["text"]["body"]
            for change in self.changes()
            for message in change["value"].get("messages", [])
        ]


@asynccontextmanager
async def hook() -> AsyncIterator[Hook]:
    recorder = Hook()
    app = web.Application()
    app.router.add_post("/webhook", recorder.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    recorder.url = f"http://{host}:{port}/webhook"
    try:
        yield recorder
    finally:
        await runner.cleanup()


async def citizen_writes(client: Any, wa_id: str, text: str) -> None:
    response = await client.post(
        f"/_emulator/users/{wa_id}/send", json={"type": "text", "text": text}
    )
    assert response.status_code == 200, response.text


def per_message(statuses: list[tuple[str, str]]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for wamid, status in statuses:
        result.setdefault(wamid, []).append(status)
    return result


# --- concurrency and order ----------------------------------------------------------------------


async def test_a_slow_answer_does_not_hold_back_other_messages() -> None:
    release = asyncio.Event()

    async with (
        hook() as receiver,
        emulator(webhook_url=receiver.url, webhook_concurrency=4) as client,
    ):

        async def hold_the_first(received: Received) -> None:
            if received is receiver.requests[0]:
                await release.wait()

        receiver.gate = hold_the_first
        await citizen_writes(client, CITIZEN, "eins")
        await citizen_writes(client, "491700000002", "zwei")
        await citizen_writes(client, "491700000003", "drei")
        # The first POST is still unanswered while the others arrive.
        await wait_until(lambda: len(receiver.requests) == 3)
        release.set()
        log = await get_when(client, "/_emulator/webhooks", lambda log: log["pending"] == 0)

    assert sorted(receiver.texts()) == ["drei", "eins", "zwei"]
    assert all(entry["ok"] for entry in log["attempts"])


async def test_one_citizens_messages_wait_for_each_other_even_when_slow() -> None:
    release = asyncio.Event()

    async with (
        hook() as receiver,
        emulator(webhook_url=receiver.url, webhook_concurrency=4) as client,
    ):

        async def hold_the_first(received: Received) -> None:
            if received is receiver.requests[0]:
                await release.wait()

        receiver.gate = hold_the_first
        for text in ("eins", "zwei", "drei"):
            await citizen_writes(client, CITIZEN, text)
        await citizen_writes(client, "491700000002", "andere")
        await wait_until(lambda: len(receiver.requests) == 2)
        await asyncio.sleep(0.05)
        held = len(receiver.requests)
        release.set()
        await wait_until(lambda: len(receiver.requests) == 4)

    assert held == 2
    assert [t for t in receiver.texts() if t != "andere"] == ["eins", "zwei", "drei"]


async def test_statuses_of_each_message_arrive_in_order_with_concurrent_deliveries() -> None:
    async def jitter(received: Received) -> None:
        # Answer times vary with the body, so POSTs finish out of order across messages.
        await asyncio.sleep((hashlib.sha256(received.body).digest()[0] % 8) / 1000)

    config = {"read_delay": 0.03, "webhook_concurrency": 8}
    async with hook() as receiver, emulator(webhook_url=receiver.url, **config) as client:
        receiver.gate = jitter
        wamids = [
            await send(client, text_message(f"Nr. {n}", to=f"4917000000{n:02d}")) for n in range(20)
        ]
        await wait_until(lambda: len(receiver.statuses()) == 60)

    order = per_message(receiver.statuses())
    assert set(order) == set(wamids)
    assert all(statuses == ["sent", "delivered", "read"] for statuses in order.values())


# --- duplicates -------------------------------------------------------------------------------


async def test_a_duplicate_probability_of_one_sends_every_body_twice() -> None:
    config = {"webhook_duplicate_probability": 1.0, "webhook_concurrency": 1}
    async with hook() as receiver, emulator(webhook_url=receiver.url, **config) as client:
        await send(client, text_message())
        await wait_until(lambda: len(receiver.requests) == 4)
        log = await get_when(client, "/_emulator/webhooks", lambda log: len(log["attempts"]) == 4)

    bodies = [received.body for received in receiver.requests]
    assert len(receiver.requests) == 4
    assert len(set(bodies)) == 2
    assert all(bodies.count(body) == 2 for body in bodies)
    for received in receiver.requests:
        expected = hmac.new(APP_SECRET.encode(), received.body, hashlib.sha256).hexdigest()
        assert received.headers["X-Hub-Signature-256"] == f"sha256={expected}"
    assert sorted(entry["duplicate"] for entry in log["attempts"]) == [False, False, True, True]


async def test_seeded_duplicates_are_repeatable() -> None:
    async def duplicated(seed: int) -> list[str]:
        config = {"webhook_duplicate_probability": 0.5, "webhook_concurrency": 1, "seed": seed}
        async with hook() as receiver, emulator(webhook_url=receiver.url, **config) as client:
            for n in range(12):
                await citizen_writes(client, CITIZEN, f"Nr. {n}")
            log = await get_when(
                client,
                "/_emulator/webhooks",
                lambda log: log["pending"] == 0 and len(log["attempts"]) >= 12,
            )
        return [entry["message_id"] for entry in log["attempts"] if entry["duplicate"]]

    first = await duplicated(11)

    assert 0 < len(first) < 12
    assert len(await duplicated(11)) == len(first)


# --- reordering ---------------------------------------------------------------------------------


async def test_reordering_shuffles_held_events_the_same_way_for_the_same_seed() -> None:
    texts = [f"Nr. {n}" for n in range(6)]

    async def arrival(seed: int) -> list[str]:
        config = {
            "webhook_reorder_window": 6,
            "webhook_reorder_hold": 30.0,
            "webhook_concurrency": 1,
            "seed": seed,
        }
        async with hook() as receiver, emulator(webhook_url=receiver.url, **config) as client:
            for n, text in enumerate(texts):
                await citizen_writes(client, f"4917000000{n:02d}", text)
            await wait_until(lambda: len(receiver.requests) == 6)
        return receiver.texts()

    first, again = await arrival(5), await arrival(5)
    orders = [first, *[await arrival(seed) for seed in (6, 7, 8)]]

    assert sorted(first) == texts
    assert first == again
    assert any(order != texts for order in orders)


async def test_held_events_go_out_after_the_hold_time_even_if_the_window_is_not_full() -> None:
    config = {"webhook_reorder_window": 50, "webhook_reorder_hold": 0.05}
    async with hook() as receiver, emulator(webhook_url=receiver.url, **config) as client:
        await citizen_writes(client, CITIZEN, "allein")
        await wait_until(lambda: receiver.texts() == ["allein"])


# --- batching -----------------------------------------------------------------------------------


async def test_pending_events_are_batched_into_one_post() -> None:
    release = asyncio.Event()
    config = {"webhook_batch_size": 10, "webhook_concurrency": 1}

    async with hook() as receiver, emulator(webhook_url=receiver.url, **config) as client:

        async def hold_the_first(received: Received) -> None:
            if received is receiver.requests[0]:
                await release.wait()

        receiver.gate = hold_the_first
        await citizen_writes(client, "491700000000", "Nr. 0")
        await wait_until(lambda: len(receiver.requests) == 1)
        # These pile up while the only delivery slot waits for the first answer.
        for n in range(1, 6):
            await citizen_writes(client, f"4917000000{n:02d}", f"Nr. {n}")
        release.set()
        await wait_until(lambda: len(receiver.texts()) == 6)
        log = await get_when(client, "/_emulator/webhooks", lambda log: log["pending"] == 0)

    first, batch = receiver.requests
    assert len(first.json()["entry"][0]["changes"]) == 1
    payload = batch.json()
    [entry] = payload["entry"]
    assert [change["field"] for change in entry["changes"]] == ["messages"] * 5
    assert batch.body == json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    expected = hmac.new(APP_SECRET.encode(), batch.body, hashlib.sha256).hexdigest()
    assert batch.headers["X-Hub-Signature-256"] == f"sha256={expected}"
    assert sorted(entry["batch"] for entry in log["attempts"]) == [1, 5, 5, 5, 5, 5]


# --- the delivery log ---------------------------------------------------------------------------


async def test_the_delivery_log_keeps_only_the_latest_entries() -> None:
    async with emulator(webhook_log_limit=3) as client:
        for n in range(4):
            await citizen_writes(client, CITIZEN, f"Nr. {n}")
        log = (await client.get("/_emulator/webhooks")).json()

    assert len(log["attempts"]) == 3
    assert [entry["detail"] for entry in log["attempts"]] == ["text"] * 3


# --- injected delivery faults -------------------------------------------------------------------


async def test_a_dropped_webhook_never_arrives_and_is_not_retried() -> None:
    async with hook() as receiver, emulator(webhook_url=receiver.url) as client:
        added = await client.post(
            "/_emulator/faults", json={"route": "webhooks", "kind": "drop", "times": 1}
        )
        await citizen_writes(client, CITIZEN, "verloren")
        await citizen_writes(client, CITIZEN, "angekommen")
        log = await get_when(
            client,
            "/_emulator/webhooks",
            lambda log: log["pending"] == 0 and len(log["attempts"]) == 2,
        )
        faults = (await client.get("/_emulator/faults")).json()["faults"]

    assert added.status_code == 200
    assert receiver.texts() == ["angekommen"]
    assert [(entry["ok"], entry["error"]) for entry in log["attempts"]] == [
        (False, "dropped by fault injection"),
        (True, None),
    ]
    assert (faults[0]["matched"], faults[0]["injected"]) == (1, 1)


async def test_an_injected_duplicate_resends_the_same_bytes() -> None:
    async with hook() as receiver, emulator(webhook_url=receiver.url) as client:
        await client.post("/_emulator/faults", json={"route": "webhooks", "kind": "duplicate"})
        await citizen_writes(client, CITIZEN, "doppelt")
        await wait_until(lambda: len(receiver.requests) == 2)

    assert receiver.requests[0].body == receiver.requests[1].body


async def test_a_slow_delivery_fault_delays_only_its_event() -> None:
    async with hook() as receiver, emulator(webhook_url=receiver.url) as client:
        await client.post(
            "/_emulator/faults",
            json={"route": "webhooks", "kind": "slow", "seconds": 30, "times": 1},
        )
        await citizen_writes(client, CITIZEN, "langsam")
        await citizen_writes(client, "491700000002", "schnell")
        await wait_until(lambda: receiver.texts() == ["schnell"])
        log = (await client.get("/_emulator/webhooks")).json()
        pending = (await client.get("/_emulator/webhooks/pending")).json()

    assert log["pending"] == 1
    assert pending == {"pending": 1, "in_flight": 1}
