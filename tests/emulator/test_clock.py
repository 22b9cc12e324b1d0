"""The emulator's clock: real time by default, frozen on request, advanced by tests."""

from __future__ import annotations

import time

import pytest

from whatsapp_emulator.clock import MAX_ADVANCE, Clock

from .support import CITIZEN, emulator, get_when, receiver, send, text_message, wait_until

pytestmark = pytest.mark.anyio

FROZEN = 1_780_000_000.0


def test_a_real_clock_follows_the_wall_clock_plus_its_advances() -> None:
    clock = Clock()
    before = time.time()
    clock.advance(3600)
    now = clock.time()

    assert before + 3600 <= now <= time.time() + 3600
    assert clock.offset == 3600
    assert not clock.frozen


def test_a_frozen_clock_moves_only_when_advanced() -> None:
    clock = Clock(frozen_at=FROZEN)
    first, first_monotonic = clock.time(), clock.monotonic()
    time.sleep(0.01)

    assert (clock.time(), clock.monotonic()) == (first, first_monotonic)
    clock.advance(90.5)
    assert clock.time() == FROZEN + 90.5
    assert clock.monotonic() == first_monotonic + 90.5
    assert clock.timestamp() == int(FROZEN + 90.5)


@pytest.mark.parametrize("seconds", [-1.0, float("nan"), float("inf"), MAX_ADVANCE + 1])
def test_the_clock_never_goes_back_nor_jumps_absurdly_far(seconds: float) -> None:
    clock = Clock(frozen_at=FROZEN)
    with pytest.raises(ValueError, match="seconds"):
        clock.advance(seconds)
    assert clock.time() == FROZEN


def test_reset_takes_the_clock_back_to_its_start() -> None:
    clock = Clock(frozen_at=FROZEN)
    clock.advance(100)
    clock.reset()

    assert clock.time() == FROZEN


async def test_the_control_api_shows_and_advances_the_clock() -> None:
    async with emulator(frozen_time=FROZEN) as client:
        before = (await client.get("/_emulator/clock")).json()
        advanced = await client.post("/_emulator/clock/advance", json={"seconds": 86400})
        after = (await client.get("/_emulator/clock")).json()

    assert before == {"time": FROZEN, "timestamp": int(FROZEN), "offset": 0.0, "frozen": True}
    assert advanced.status_code == 200
    assert advanced.json() == after
    assert after["time"] == FROZEN + 86400
    assert after["offset"] == 86400


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({}, "seconds"),
        ({"seconds": -5}, "seconds"),
        ({"seconds": "60"}, "seconds"),
        ({"seconds": True}, "seconds"),
        ({"seconds": None}, "seconds"),
        ({"seconds": 1e12}, "seconds"),
        ({"seconds": 5, "minutes": 1}, "minutes"),
        ([5], "JSON object"),
    ],
)
async def test_a_wrong_advance_is_refused_and_changes_nothing(body: object, complaint: str) -> None:
    async with emulator(frozen_time=FROZEN) as client:
        response = await client.post("/_emulator/clock/advance", json=body)
        clock = (await client.get("/_emulator/clock")).json()

    assert response.status_code == 400
    assert complaint in response.json()["error"]
    assert clock["time"] == FROZEN


async def test_malformed_duplicate_keyed_and_oversized_bodies_are_refused() -> None:
    async with emulator(frozen_time=FROZEN) as client:
        malformed = await client.post("/_emulator/clock/advance", content=b'{"seconds": ')
        nan = await client.post("/_emulator/clock/advance", content=b'{"seconds": NaN}')
        repeated = await client.post(
            "/_emulator/clock/advance", content=b'{"seconds": 1, "seconds": 2}'
        )
        huge = await client.post(
            "/_emulator/clock/advance", content=b'{"seconds": 1, "x": "' + b"a" * 70_000 + b'"}'
        )
        clock = (await client.get("/_emulator/clock")).json()

    assert [r.status_code for r in (malformed, nan, repeated, huge)] == [400, 400, 400, 413]
    assert "more than once" in repeated.json()["error"]
    assert clock["time"] == FROZEN


async def test_the_clock_routes_answer_only_their_methods() -> None:
    async with emulator() as client:
        wrong_method = await client.delete("/_emulator/clock")
        wrong_get = await client.get("/_emulator/clock/advance")

    assert wrong_method.status_code == 405
    assert wrong_get.status_code == 405


async def test_message_and_webhook_timestamps_come_from_the_clock() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url, frozen_time=FROZEN) as client:
        await client.post("/_emulator/clock/advance", json={"seconds": 7200})
        wamid = await send(client, text_message())
        await wait_until(lambda: len(hook.statuses) == 2)
        chat = (await client.get(f"/_emulator/users/{CITIZEN}/messages")).json()
        log = await get_when(client, "/_emulator/webhooks", lambda log: len(log["attempts"]) == 2)

    expected = str(int(FROZEN + 7200))
    assert [status["timestamp"] for status in hook.statuses] == [expected, expected]
    assert chat["messages"][0]["id"] == wamid
    assert chat["messages"][0]["timestamp"] == int(FROZEN + 7200)
    assert {entry["time"] for entry in log["attempts"]} == {FROZEN + 7200}


async def test_reset_undoes_clock_advances() -> None:
    async with emulator(frozen_time=FROZEN) as client:
        await client.post("/_emulator/clock/advance", json={"seconds": 60})
        await client.post("/_emulator/reset")
        clock = (await client.get("/_emulator/clock")).json()

    assert clock["time"] == FROZEN
