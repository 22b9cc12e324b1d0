"""kill -9 in the middle of a post, again and again, and nobody gets it twice.

The process that sends (`stadtbote run` with its embedded worker on SQLite; the `stadtbote
worker` processes on PostgreSQL + Redis) is killed at random points while a post goes out, and
started again each time. Afterwards every delivery has either reached the emulator exactly once
or failed as "interrupted while sending; not resent to avoid a duplicate" (reached the emulator
at most once: Meta may or may not have accepted what was in flight); nobody has the post twice
and nothing is left queued. The interrupted ones are counted, printed and bounded.

Each restarted process must carry on by itself: nothing in the test nudges the post along.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass

import pytest

from tests.e2e.conftest import SENDING
from tests.e2e.phone import Emulator
from tests.e2e.stack import StackOptions, wait_until

pytestmark = pytest.mark.e2e

RECIPIENTS = 1500
KILLS = 5
PACE = 100  # messages per second, the app's pacer and the emulator's limit alike
# Claims older than this are a dead process's: far more than a live batch takes at this pace.
STALE_CLAIM_SECONDS = 10
# A process dies with its requests in flight (the send loop has at most 64 out at once) and
# with what it claimed ahead to keep them busy, which must stay within about a second of the
# pace: only these can end interrupted, and only those in flight can have reached Meta.
IN_FLIGHT = 64
HELD_PER_PROCESS = IN_FLIGHT + PACE
SEED = int(os.environ.get("STADTBOTE_TEST_SEED", str(random.SystemRandom().randrange(10**6))))


@pytest.fixture
def stack_options() -> StackOptions:
    return StackOptions(
        env={
            "WHATSAPP_MESSAGES_PER_SECOND": str(PACE),
            "STADTBOTE_STALE_CLAIM_SECONDS": str(STALE_CLAIM_SECONDS),
            "EMULATOR_MESSAGING_LIMIT": "0",  # Meta's tier of unique users: not tested here
        }
    )


def test_killing_the_sender_mid_post_never_sends_twice(stack, newsroom):
    rng = random.Random(SEED)
    emulator = Emulator(stack)
    newsroom.prepare([f"49176{20_000_000 + n}" for n in range(RECIPIENTS)])
    started = time.monotonic()
    post = newsroom.publish("Stromausfall", "Heute Abend fällt in der Altstadt der Strom aus.")
    # The embedded worker lives in the web process; scaled, the workers are killed, one or all.
    senders = stack.workers or ["web"]
    kills: list[Kill] = []
    held: set[int] = set()  # rows left SENDING by earlier kills
    try:
        for n in range(KILLS):
            _wait_for_sending(emulator)  # by itself: a restarted worker resumes on its own
            time.sleep(rng.uniform(0.0, 1.5))  # a random point: claiming, sending, recording
            if newsroom.status(post) == "sent":
                break
            victims = rng.choice([senders, [rng.choice(senders)]])
            for name in victims:
                stack.kill(name)
            claimed = _claimed(newsroom, post) - held
            held |= claimed
            kills.append(Kill(time.monotonic() - started, victims, len(claimed)))
            if n == KILLS - 1:
                # Down a little longer the last time: the sweep a worker runs when it starts
                # then finds these claims stale, rather than the one a minute later.
                time.sleep(STALE_CLAIM_SECONDS + 1)
            for name in victims:
                stack.restart(name)
        newsroom.wait_until_sent(post, timeout=300)
        audit = newsroom.audit(post)
    except AssertionError:
        print(stack.logs())
        raise
    print(f"\nseed {SEED} (STADTBOTE_TEST_SEED repeats it), {time.monotonic() - started:.0f} s")
    for kill in kills:
        print(f"  {kill.at:5.1f} s: killed {', '.join(kill.victims)}; {kill.claimed} claimed")
    print(audit.summary())
    assert len(kills) == KILLS, "the post was sent before all kills were done"
    assert audit.problems == []
    assert audit.total == RECIPIENTS
    assert audit.reached + audit.interrupted == RECIPIENTS, audit.failed
    # Only rows a process held when it died are interrupted, and no more than it may hold.
    victims = sum(len(k.victims) for k in kills)
    assert audit.interrupted <= len(held)
    assert audit.interrupted <= HELD_PER_PROCESS * victims
    assert audit.interrupted_received <= IN_FLIGHT * victims


@dataclass(frozen=True)
class Kill:
    at: float  # seconds after the approval
    victims: list[str]
    # Rows newly SENDING right after the kill: the victims' claims (and, when one of two
    # workers dies, the survivor's of that moment, which it goes on to record).
    claimed: int


def _wait_for_sending(emulator: Emulator) -> None:
    seen = len(emulator.sends())
    wait_until(
        lambda: len(emulator.sends()) > seen,
        timeout=120,  # two minutes: a restarted worker's own sweep, or the next one, picks up
        what="sending to go on (after a restart: the worker's sweep wakes the dispatcher)",
        interval=0.5,  # the emulator's whole log each time
    )


def _claimed(newsroom, post: int) -> set[int]:
    return {row.id for row in newsroom.deliveries(post) if row.state == SENDING}
