"""A citizen's "Stop" while a paced post is going out is honoured for what is not yet sent.

Some hundred imported subscribers come first in line; after them, citizens who subscribed in
the chat. While the post is on its way to the first ones, some of the later citizens write
"Stop" on the emulator's phone. They get the goodbye and never the post (their deliveries fail
as "unsubscribed"); a citizen who did not stop gets it once, and so does everybody else.
"""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import QUEUED
from tests.e2e.phone import Emulator, Phone, text_of
from tests.e2e.stack import StackOptions, wait_until

pytestmark = pytest.mark.e2e

IMPORTED = 300
PACE = 20  # slow enough that the post takes a while: the Stop comes in the middle
STOPPING = ["491761400001", "491761400002", "491761400003"]
STAYING = "491761400004"
TEXT = "Morgen ist der Wochenmarkt auf dem Rathausplatz."


@pytest.fixture
def stack_options() -> StackOptions:
    return StackOptions(
        env={"WHATSAPP_MESSAGES_PER_SECOND": str(PACE), "EMULATOR_MESSAGING_LIMIT": "0"}
    )


def test_a_stop_mid_post_is_honoured_before_the_next_send(stack, newsroom):
    emulator = Emulator(stack)
    newsroom.prepare([f"49176{40_000_000 + n}" for n in range(IMPORTED)])
    phones = {number: Phone(stack, number) for number in [*STOPPING, STAYING]}
    try:
        for phone in phones.values():
            _subscribe(phone)
        started = time.monotonic()
        post = newsroom.publish("Wochenmarkt", TEXT)
        # Underway, and the chat subscribers (last in line) not claimed yet.
        wait_until(
            lambda: len(emulator.sends()) > 2 * PACE,
            timeout=120,
            what="the post going",
            interval=0.5,
        )
        waiting = _states(newsroom, post)
        assert all(waiting[n] == QUEUED for n in phones), waiting
        for number in STOPPING:
            phones[number].write("Stop")
        for number in STOPPING:
            phones[number].wait_for_text("Sie sind abgemeldet")
        stopped_at = len(emulator.sends())
        newsroom.wait_until_sent(post, timeout=180)
        audit = newsroom.audit(post)
    except AssertionError:
        print(stack.logs())
        raise
    print(
        f"\n{time.monotonic() - started:.0f} s; Stop taken when {stopped_at} sends were out"
        f"\n{audit.summary()}"
    )
    for number in STOPPING:
        assert not [m for m in phones[number].received() if TEXT in text_of(m)], number
    assert [text_of(m) for m in phones[STAYING].received()].count(TEXT) == 1
    assert audit.problems == []
    assert audit.duplicates == 0
    assert audit.total == IMPORTED + len(phones)
    assert audit.failed == {"unsubscribed": len(STOPPING)}
    assert audit.reached == IMPORTED + 1


def _subscribe(phone: Phone) -> None:
    phone.write("Start")
    question = phone.wait_for(lambda m: m["type"] == "interactive", "the confirmation question")
    phone.tap(question, "subscription:confirm")
    phone.wait_for_text("Willkommen")


def _states(newsroom, post: int) -> dict[str, int]:
    """Delivery state per chat subscriber. They subscribed after the import and one after the
    other, so theirs are the highest subscriber ids, in that order."""
    rows = sorted(
        (r for r in newsroom.deliveries(post) if r.subscriber_id is not None),
        key=lambda r: r.subscriber_id,
    )
    chat = [*STOPPING, STAYING]
    return {number: row.state for number, row in zip(chat, rows[-len(chat) :], strict=True)}
