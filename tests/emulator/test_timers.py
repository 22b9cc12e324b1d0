"""The FIFO status timers: due order per queue, one loop timer per queue, clearing."""

from __future__ import annotations

import asyncio

import pytest

from whatsapp_emulator.timers import FifoTimers

pytestmark = pytest.mark.anyio


async def test_calls_run_when_due_in_the_order_set() -> None:
    timers = FifoTimers()
    loop = asyncio.get_running_loop()
    ran: list[str] = []
    start = loop.time()
    for name, delay in [("a", 0.01), ("b", 0.02), ("c", 0.03)]:
        timers.call_at("sent", start + delay, ran.append, name)
    timers.call_at("delivered", start + 0.015, ran.append, "x")

    while len(ran) < 4:
        await asyncio.sleep(0.005)

    assert ran == ["a", "x", "b", "c"]
    assert timers.pending == 0


async def test_a_call_may_set_the_next_one() -> None:
    timers = FifoTimers()
    loop = asyncio.get_running_loop()
    ran: list[str] = []

    def first() -> None:
        ran.append("first")
        timers.call_at("second", loop.time(), ran.append, "second")

    timers.call_at("first", loop.time(), first)
    while len(ran) < 2:
        await asyncio.sleep(0.005)

    assert ran == ["first", "second"]


async def test_cleared_calls_never_run() -> None:
    timers = FifoTimers()
    loop = asyncio.get_running_loop()
    ran: list[str] = []
    timers.call_at("sent", loop.time() + 0.01, ran.append, "never")
    timers.clear()
    await asyncio.sleep(0.03)
    timers.call_at("sent", loop.time(), ran.append, "later")
    await asyncio.sleep(0.01)

    assert ran == ["later"]


async def test_a_failing_call_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    timers = FifoTimers()
    loop = asyncio.get_running_loop()
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("boom")

    now = loop.time()
    timers.call_at("sent", now, broken)
    timers.call_at("sent", now, ran.append, "still")
    await asyncio.sleep(0.01)

    assert ran == ["still"]
    assert "A status timer failed" in caplog.text
