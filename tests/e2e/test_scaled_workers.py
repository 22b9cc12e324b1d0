"""The scaled mode: PostgreSQL + Redis, `stadtbote run --no-worker` and three `stadtbote worker`
processes share one post and the pace of one sending number.

A post to a few thousand subscribers at a set pace, with the emulator's throughput limit at
that same pace: everybody gets it exactly once, every worker sent part of it (from their logs,
whose lines carry counts and ids only), and the emulator refused nothing, so no 130429: the
pace held across processes (the pacer's schedule lives in Redis).
"""

from __future__ import annotations

import re
import time
from collections import Counter

import pytest

from tests.e2e.stack import StackOptions

# Redis and several worker processes: the PostgreSQL + Redis pass only.
pytestmark = [pytest.mark.e2e, pytest.mark.redis]

WORKERS = 3
RECIPIENTS = 2000
PACE = 80  # the app's pace and the emulator's throughput limit (error 130429 beyond it)
# dispatch.record logs one line per recorded batch: "Delivery: 25 accepted of 25".
BATCH_LOG = re.compile(r"Delivery: (\d+) accepted of (\d+)")
# The emulator's access log: one line per Graph API request with its HTTP status.
SEND_LOG = re.compile(r'"POST /v[\d.]+/\d+/messages HTTP/1\.1" (\d{3})')


@pytest.fixture
def stack_options() -> StackOptions:
    return StackOptions(
        workers=WORKERS,
        env={"WHATSAPP_MESSAGES_PER_SECOND": str(PACE), "EMULATOR_MESSAGING_LIMIT": "0"},
    )


def test_three_workers_share_a_post_and_one_pace(stack, newsroom):
    assert len(stack.workers) == WORKERS
    newsroom.prepare([f"49176{50_000_000 + n}" for n in range(RECIPIENTS)])
    started = time.monotonic()
    post = newsroom.publish("Sperrung", "Die Brücke am Hafen ist ab Montag gesperrt.")
    try:
        newsroom.wait_until_sent(post, timeout=RECIPIENTS / PACE * 4 + 60)
        audit = newsroom.audit(post)
    except AssertionError:
        print(stack.logs())
        raise
    took = time.monotonic() - started
    share = {name: _accepted_in_log(stack.log_of(name)) for name in stack.workers}
    answers = Counter(SEND_LOG.findall(stack.log_of("emulator")))
    print(
        f"\n{took:.0f} s for {RECIPIENTS} at {PACE}/s; accepted per worker {share}; "
        f"emulator answers {dict(answers)}\n{audit.summary()}"
    )
    assert audit.problems == []
    assert audit.reached == RECIPIENTS
    assert audit.retries == 0  # no send was refused and tried again
    assert all(share.values()), f"a worker sent nothing: {share}"
    assert sum(share.values()) == RECIPIENTS
    assert set(answers) == {"200"}, f"the emulator refused sends (130429): {answers}"
    assert answers["200"] == RECIPIENTS


def _accepted_in_log(text: str) -> int:
    return sum(int(accepted) for accepted, _ in BATCH_LOG.findall(text))
