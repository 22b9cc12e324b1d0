"""Meta's per-number throughput limit: error 130429 once the bucket is empty."""

from __future__ import annotations

import pytest

from whatsapp_emulator.throughput import TokenBucket

from .support import AUTH, SEND_PATH, emulator, error_of, text_message


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_bucket_allows_one_second_worth_at_once_then_refills() -> None:
    clock = FakeClock()
    bucket = TokenBucket(2, clock=clock)

    assert [bucket.try_take() for _ in range(3)] == [True, True, False]
    clock.now = 0.5
    assert [bucket.try_take() for _ in range(2)] == [True, False]
    clock.now = 10.0
    assert [bucket.try_take() for _ in range(3)] == [True, True, False]


@pytest.mark.anyio
async def test_it_answers_130429_when_the_rate_is_exceeded() -> None:
    async with emulator(messages_per_second=2) as client:
        responses = [
            await client.post(SEND_PATH, json=text_message(), headers=AUTH) for _ in range(10)
        ]
        log = (await client.get("/_emulator/messages")).json()["messages"]

    # The bucket starts full, so the first two always pass; ten sends in a row cannot all
    # fit in the half second one more token takes to refill.
    assert [response.status_code for response in responses[:2]] == [200, 200]
    rejected = [response for response in responses if response.status_code != 200]
    assert rejected
    for response in rejected:
        assert response.status_code == 400
        error = error_of(response)
        assert error["code"] == 130429
        assert error["message"] == "(#130429) Rate limit hit"
    assert len(log) == 10 - len(rejected)


@pytest.mark.anyio
async def test_zero_messages_per_second_switches_the_limit_off() -> None:
    async with emulator(messages_per_second=0) as client:
        responses = [
            await client.post(SEND_PATH, json=text_message(), headers=AUTH) for _ in range(50)
        ]

    assert {response.status_code for response in responses} == {200}


def test_a_bucket_with_a_capacity_allows_that_burst_and_refills_at_its_rate() -> None:
    clock = FakeClock()
    # The pair rate limit: one message per 6 seconds, bursts of up to 3.
    bucket = TokenBucket(1 / 6, clock=clock, capacity=3)

    assert [bucket.try_take() for _ in range(4)] == [True, True, True, False]
    assert bucket.wait_time() == pytest.approx(6.0)
    clock.now = 5.9
    assert not bucket.try_take()
    clock.now = 6.0
    assert [bucket.try_take() for _ in range(2)] == [True, False]
    clock.now = 1000.0
    assert [bucket.try_take() for _ in range(4)] == [True, True, True, False]


def test_a_clock_that_goes_back_does_not_drain_the_bucket() -> None:
    clock = FakeClock()
    clock.now = 100.0
    bucket = TokenBucket(1, clock=clock)
    clock.now = 50.0

    assert bucket.try_take()


@pytest.mark.parametrize(("rate", "capacity"), [(0, None), (-1, None), (1, 0.5)])
def test_a_bucket_needs_a_positive_rate_and_room_for_one(
    rate: float, capacity: float | None
) -> None:
    with pytest.raises(ValueError, match="must be"):
        TokenBucket(rate, capacity=capacity)


@pytest.mark.anyio
async def test_the_throughput_bucket_refills_on_the_emulators_clock() -> None:
    async with emulator(messages_per_second=2, frozen_time=1_780_000_000.0) as client:
        burst = [await client.post(SEND_PATH, json=text_message(), headers=AUTH) for _ in range(3)]
        await client.post("/_emulator/clock/advance", json={"seconds": 0.5})
        refilled = [
            await client.post(SEND_PATH, json=text_message(), headers=AUTH) for _ in range(2)
        ]

    assert [r.status_code for r in burst] == [200, 200, 400]
    assert [r.status_code for r in refilled] == [200, 400]
