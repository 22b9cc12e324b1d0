"""The send loop: one stream of sends by priority, each after the pacer's next slot; results per
batch in order; what a stop does to messages queued and in flight. A stand-in transport and a
pacer that hands out slots only when the test says so make the order of sends exact."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from stadtbote.channels import sending
from stadtbote.channels.sending import BULK, CHAT, URGENT, Interrupted, Outgoing, SendLoop
from stadtbote.channels.types import OutboundMessage, TransportError
from tests.e2e.stack import wait_until


class Slots:
    """A pacer whose slots the test releases one by one (or all at once)."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self._free = 0
        self._unlimited = False
        self._changed: asyncio.Event | None = None

    async def acquire(self, key: str) -> None:
        if self._changed is None:
            self._changed = asyncio.Event()
        while not (self._unlimited or self._free):
            self._changed.clear()
            await self._changed.wait()
        if not self._unlimited:
            self._free -= 1

    def release(self, count: int = 1) -> None:
        self._call(lambda: setattr(self, "_free", self._free + count))

    def open(self) -> None:
        self._call(lambda: setattr(self, "_unlimited", True))

    def _call(self, change) -> None:
        def apply() -> None:
            change()
            if self._changed is not None:
                self._changed.set()

        assert self.loop is not None
        self.loop.call_soon_threadsafe(apply)


class Phone:
    """Stands in for Meta: records what was sent in which order, answers with an id."""

    sender_key = "100000000000001"

    def __init__(self, hang: bool = False, fail: Exception | None = None) -> None:
        self.sent: list[str] = []
        self._lock = threading.Lock()
        self._hang = hang
        self._fail = fail

    async def send(self, to: str, message: OutboundMessage) -> str:
        if self._fail is not None:
            raise self._fail
        if self._hang:
            await asyncio.Event().wait()
        with self._lock:
            self.sent.append(message.text or "")
            return f"wamid.{len(self.sent)}"


def items(*texts: str) -> list[Outgoing]:
    return [Outgoing(to="491700000000", message=OutboundMessage(text=t)) for t in texts]


@pytest.fixture
def slots() -> Slots:
    return Slots()


@pytest.fixture
def phone() -> Phone:
    return Phone()


def paced_by(slots: Slots, transport: Phone) -> SendLoop:
    send_loop = SendLoop(transport=transport, pacer=slots)
    slots.loop = send_loop._loop  # the slots change in the loop's thread, like the pacer's
    return send_loop


@pytest.fixture
def loop(phone, slots) -> Iterator[SendLoop]:
    send_loop = paced_by(slots, phone)
    yield send_loop
    slots.open()
    send_loop._close()


def test_each_batch_gets_its_results_in_order(loop, slots):
    slots.open()
    first = loop.submit(items("a", "b", "c"))
    second = loop.submit(items("d"))
    assert first.result(timeout=10) == ["wamid.1", "wamid.2", "wamid.3"]
    assert second.result(timeout=10) == ["wamid.4"]
    assert loop.waiting() == 0


def test_an_urgent_message_takes_the_next_slot_ahead_of_everything_queued(loop, slots, phone):
    bulk = loop.submit(items(*(f"bulk{n}" for n in range(6))), BULK)
    slots.release(2)
    wait_until(lambda: len(phone.sent) == 2, timeout=10, what="two sends")
    assert loop.waiting() == 4
    reply = loop.submit(items("reply"), CHAT)
    urgent = loop.submit(items("urgent0", "urgent1"), URGENT)
    wait_until(lambda: loop.waiting() == 7, timeout=10, what="the new batches queued")
    slots.open()
    bulk.result(timeout=10), reply.result(timeout=10), urgent.result(timeout=10)
    assert phone.sent == [
        "bulk0",
        "bulk1",
        "urgent0",
        "urgent1",
        "reply",
        "bulk2",
        "bulk3",
        "bulk4",
        "bulk5",
    ]


def test_send_many_waits_for_the_results(loop, slots):
    slots.open()
    assert loop.send_many(items("a", "b")) == ["wamid.1", "wamid.2"]
    assert loop.send_many([]) == []


def test_what_was_still_queued_at_a_stop_is_given_back_to_be_sent_later(monkeypatch, phone, slots):
    monkeypatch.setattr(sending, "STOP_GRACE", 0.2)
    send_loop = paced_by(slots, phone)
    future = send_loop.submit(items("a", "b", "c"))
    wait_until(lambda: slots._changed is not None, timeout=10, what="a lane waiting for a slot")
    send_loop._close()
    results = future.result(timeout=10)
    assert phone.sent == []
    assert all(isinstance(r, TransportError) and not r.permanent for r in results)
    assert not any(isinstance(r, Interrupted) for r in results)
    with pytest.raises(RuntimeError):
        send_loop.submit(items("d"))


def test_a_request_still_out_at_a_stop_is_reported_as_interrupted(monkeypatch, slots):
    monkeypatch.setattr(sending, "STOP_GRACE", 0.2)
    send_loop = paced_by(slots, Phone(hang=True))
    slots.open()
    future = send_loop.submit(items("a"))
    wait_until(lambda: send_loop.waiting() == 0, timeout=10, what="the send to start")
    send_loop._close()
    [result] = future.result(timeout=10)
    assert isinstance(result, Interrupted)


def test_an_unexpected_error_while_sending_leaves_the_outcome_unknown(slots):
    send_loop = paced_by(slots, Phone(fail=ValueError("491700000000")))
    slots.open()
    try:
        [result] = send_loop.submit(items("a")).result(timeout=10)
    finally:
        send_loop._close()
    assert isinstance(result, Interrupted)
    assert "4917" not in str(result)


def test_a_transport_error_is_the_result_of_its_item(slots):
    phone = Phone(fail=TransportError("Rate limit hit", permanent=False, code=130429))
    send_loop = paced_by(slots, phone)
    slots.open()
    try:
        [result] = send_loop.submit(items("a")).result(timeout=10)
    finally:
        send_loop._close()
    assert isinstance(result, TransportError) and result.code == 130429
