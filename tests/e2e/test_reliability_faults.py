"""A post goes out while the emulator fails about 10 % of sends, and nobody gets it twice.

The emulator's fault injection (seeded, on the `messages` route) answers some sends with Meta's
transient 500/503 before accepting them, and holds or drops the connection of others, half of
those after it accepted the message: exactly the case where a blind retry duplicates. The
transport sorts them: a 500/503 with Meta's error body is retried; a timeout or a closed
connection after the request went out is not resent and fails as "outcome unknown; not resent
to avoid a duplicate". Every injected fault is accounted for, one by one.
"""

from __future__ import annotations

import time

import pytest

from tests.e2e.phone import Emulator
from tests.e2e.stack import StackOptions

pytestmark = pytest.mark.e2e

RECIPIENTS = 400
PACE = 100
SEED = 20261123  # the emulator's rules are seeded: the same requests fail in every run
# Rules are tried in order; about 10 % of sends get one. A timeout holds the request, then
# closes the connection without an answer; a drop closes it at once. `after_processing`: the
# emulator accepted the message first.
FAULTS = [
    {"kind": "http_500", "probability": 0.025},
    {"kind": "http_503", "probability": 0.02},
    {"kind": "timeout", "probability": 0.015, "seconds": 2.0},
    {"kind": "timeout", "probability": 0.015, "seconds": 2.0, "after_processing": True},
    {"kind": "drop", "probability": 0.015},
    {"kind": "drop", "probability": 0.015, "after_processing": True},
    # Once: held longer than the app's request timeout (20 s): the app gives up, not the server.
    {"kind": "timeout", "probability": 0.01, "seconds": 25.0, "after_processing": True, "times": 1},
]


@pytest.fixture
def stack_options() -> StackOptions:
    return StackOptions(
        env={"WHATSAPP_MESSAGES_PER_SECOND": str(PACE), "EMULATOR_MESSAGING_LIMIT": "0"},
        webhooks=False,  # statuses are not what this test is about
    )


def test_a_post_completes_without_duplicates_when_meta_has_a_bad_day(stack, newsroom):
    emulator = Emulator(stack)
    newsroom.prepare([f"49176{30_000_000 + n}" for n in range(RECIPIENTS)])
    for n, rule in enumerate(FAULTS):
        emulator.add_fault(route="messages", seed=SEED + n, **rule)
    started = time.monotonic()
    post = newsroom.publish("Hitzewarnung", "Trinken Sie heute viel Wasser.")
    try:
        # Retries wait for their backoff; nudging takes them up then, not at the next minute.
        newsroom.wait_until_sent(post, timeout=300, nudge_every=5)
        audit = newsroom.audit(post)
    except AssertionError:
        print(stack.logs())
        raise
    faults = emulator.faults()
    injected = {(f["kind"], f["after_processing"], f["seconds"]): f["injected"] for f in faults}
    print(
        f"\n{time.monotonic() - started:.0f} s; faults injected {injected}"
        f" of {faults[0]['matched']} sends\n{audit.summary()}"
    )
    transient = sum(f["injected"] for f in faults if f["kind"].startswith("http_"))
    ambiguous = sum(f["injected"] for f in faults if f["kind"] in ("timeout", "drop"))
    accepted_first = sum(
        f["injected"] for f in faults if f["kind"] in ("timeout", "drop") and f["after_processing"]
    )
    assert audit.problems == []
    assert audit.duplicates == 0
    assert audit.total == RECIPIENTS
    assert audit.reached + audit.unknown == RECIPIENTS, audit.failed
    # Each 500/503 was retried once; each held or dropped connection failed its delivery as
    # unknown, and the emulator has exactly those it accepted before failing the answer.
    assert audit.retries == transient
    assert audit.unknown == ambiguous
    assert audit.unknown_received == accepted_first
    assert transient > 0 and accepted_first > 0 and ambiguous > accepted_first
