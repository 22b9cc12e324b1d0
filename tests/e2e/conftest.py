"""The real app (with its worker or workers) and the real emulator, as separate processes:
embedded on SQLite, or scaled on PostgreSQL + Redis with `stadtbote worker` processes.

A test module changes the stack by overriding the `stack_options` fixture (workers, pace,
stale-claim time, …). `newsroom` is the city's side: subscribers, staff, posts, and the audit
of a post against what the emulator received."""

from __future__ import annotations

import json
import os
import secrets
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
import redis

from tests import conftest
from tests.e2e.phone import Emulator
from tests.e2e.stack import Stack, StackOptions, request, running_stack, wait_until


@pytest.fixture
def stack_options() -> StackOptions:
    return StackOptions()


@pytest.fixture
def stack(tmp_path, stack_options: StackOptions) -> Iterator[Stack]:
    if conftest.BACKEND == "postgres":
        database_url, cleanup = _fresh_postgres_database()
        redis_url = os.environ.get(
            "STADTBOTE_TEST_E2E_REDIS_URL", conftest.REDIS_URL.rsplit("/", 1)[0] + "/13"
        )
        _flush_redis(redis_url)
        try:
            with running_stack(
                tmp_path,
                scaled=True,
                database_url=database_url,
                redis_url=redis_url,
                options=stack_options,
            ) as s:
                yield s
        finally:
            cleanup()
    else:
        with running_stack(
            tmp_path, scaled=False, database_url=None, redis_url=None, options=stack_options
        ) as s:
            yield s


@pytest.fixture
def newsroom(stack: Stack) -> Newsroom:
    return Newsroom(stack)


def _fresh_postgres_database():
    name = f"stadtbote_e2e_{secrets.token_hex(4)}"
    admin_url = conftest.POSTGRES_URL.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def cleanup() -> None:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return conftest.POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}", cleanup


def _flush_redis(url: str) -> None:
    redis.Redis.from_url(url).flushdb()


# Delivery states (stadtbote.channels.models.SendState), as stored.
QUEUED, HELD, SENDING, ACCEPTED, FAILED = 0, 5, 10, 15, 50
REACHED_META = range(ACCEPTED, FAILED)  # accepted, sent, delivered, read
INTERRUPTED = "interrupted while sending; not resent to avoid a duplicate"
OUTCOME_UNKNOWN = "outcome unknown; not resent to avoid a duplicate"

# One process start does the whole setup: staff with API tokens, the news template (registered
# with the emulator, which approves it), and the subscribers imported with consent proof.
_SETUP = """
import json
from django.contrib.auth.models import User
from django.core.management import call_command
from stadtbote import demo
from stadtbote.accounts.tokens import create_token
tokens = {}
for name in ("editor", "approver"):
    user = User.objects.create_superuser(name, f"{name}@example.org", None)
    tokens[name] = create_token(user)
assert demo.register_news_template() == "APPROVED"
call_command("import_subscribers", CSV_PATH)
print(json.dumps(tokens))
"""


class Newsroom:
    """The city's side of a test: subscribers, an editor and an approver working through the
    REST API, and the post's delivery rows as the app recorded them."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.tokens: dict[str, str] = {}

    def prepare(self, numbers: Sequence[str]) -> None:
        """Staff, the approved news template and these subscribers (digits with country
        code). Imported subscribers have never written, so posts reach them as templates."""
        csv = self.stack.workdir / "subscribers.csv"
        lines = ["phone,consented_at,consent_source"]
        lines += [f"+{number},2026-11-01,reliability test" for number in numbers]
        csv.write_text("\n".join(lines) + "\n")
        out = self.stack.command("shell", "-c", _SETUP.replace("CSV_PATH", repr(str(csv))))
        self.tokens = json.loads(out.strip().splitlines()[-1])
        assert f"Imported {len(numbers)}," in out, out

    def api(self, who: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        return request(method, f"{self.stack.app_url}/api/v1{path}", body, headers)

    def publish(self, title: str, text: str) -> int:
        """The editor writes and submits a post, the approver approves it: it goes out."""
        status, post = self.api("editor", "POST", "/posts", {"title": title, "text": text})
        assert status == 201, post
        status, body = self.api("editor", "POST", f"/posts/{post['id']}/submit")
        assert (status, body["status"]) == (200, "submitted"), body
        status, body = self.api("approver", "POST", f"/posts/{post['id']}/approve", {})
        assert (status, body["status"]) == (200, "sending"), body
        return int(post["id"])

    def status(self, post_id: int) -> str:
        status, body = self.api("editor", "GET", f"/posts/{post_id}")
        assert status == 200, body
        return str(body["status"])

    def nudge(self, post_id: int) -> None:
        """Pause and resume the post, as staff can: resuming wakes the dispatcher at once, so
        that retries due after their backoff go out now rather than at the minute's sweep."""
        status, body = self.api("approver", "POST", f"/posts/{post_id}/pause")
        if status == 409:  # already sent, nothing to nudge
            return
        assert status == 200, body
        status, body = self.api("approver", "POST", f"/posts/{post_id}/resume")
        assert status == 200, body

    def wait_until_sent(
        self, post_id: int, *, timeout: float, nudge_every: float | None = None
    ) -> None:
        """Until the post has left the queue entirely. What is left of a killed worker's
        claims is failed by the minute's sweep once older than the stale-claim time; retries
        are taken up by that sweep too, or at once when nudged (`nudge_every` seconds)."""
        last = time.monotonic()

        def sent() -> bool:
            nonlocal last
            if self.status(post_id) == "sent":
                return True
            if nudge_every is not None and time.monotonic() - last > nudge_every:
                self.nudge(post_id)
                last = time.monotonic()
            return False

        wait_until(sent, timeout=timeout, what="the post sent", interval=0.5)

    def deliveries(self, post_id: int) -> list[Delivery]:
        rows = self.stack.query(
            "SELECT id, subscriber_id, state, last_error, attempts, message_id, error_code"
            " FROM broadcasts_delivery WHERE post_id = %s ORDER BY id",
            [post_id],
        )
        return [Delivery(*row) for row in rows]

    def audit(self, post_id: int) -> Audit:
        return Audit.of(self.deliveries(post_id), Emulator(self.stack).sends())


@dataclass(frozen=True)
class Delivery:
    id: int
    subscriber_id: int | None
    state: int
    last_error: str
    attempts: int
    message_id: str | None
    error_code: int | None

    @property
    def tracker(self) -> str:
        return f"d{self.id}"  # what the app puts into biz_opaque_callback_data


@dataclass
class Audit:
    """Each delivery of a post against the emulator's log of accepted sends.

    Every row must end either reached (accepted or later; the emulator has it exactly once,
    under the same message id) or failed with a reason; a row failed because it was
    interrupted or its outcome is unknown may have reached the emulator at most once, any
    other failure never. Nobody has the post twice; nothing is left queued or sending."""

    total: int = 0
    reached: int = 0
    interrupted: int = 0
    interrupted_received: int = 0
    unknown: int = 0
    unknown_received: int = 0
    retried_rows: int = 0
    retries: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    problems: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, rows: Sequence[Delivery], sends: Sequence[dict[str, Any]]) -> Audit:
        audit = cls(total=len(rows))
        trackers = {row.tracker for row in rows}
        mine = [s for s in sends if s["body"].get("biz_opaque_callback_data") in trackers]
        by_tracker = Counter(s["body"]["biz_opaque_callback_data"] for s in mine)
        ids = {s["body"]["biz_opaque_callback_data"]: s["id"] for s in mine}
        per_recipient = Counter(s["wa_id"] for s in mine)
        audit.duplicates = sum(1 for n in per_recipient.values() if n > 1)
        if audit.duplicates:
            audit.problems.append(f"{audit.duplicates} recipients got the post more than once")
        for row in rows:
            audit._check(row, by_tracker[row.tracker], ids.get(row.tracker))
        return audit

    def _check(self, row: Delivery, received: int, wamid: str | None) -> None:
        if row.attempts > 1:
            self.retried_rows += 1
            self.retries += row.attempts - 1
        if row.state in REACHED_META:
            self.reached += 1
            if received != 1 or row.message_id != wamid:
                self.problems.append(f"{row.tracker} reached Meta, emulator has it {received}x")
        elif row.state == FAILED and row.last_error == INTERRUPTED:
            self.interrupted += 1
            self.interrupted_received += received
            if received > 1:
                self.problems.append(f"{row.tracker} interrupted, emulator has it {received}x")
        elif row.state == FAILED and row.last_error == OUTCOME_UNKNOWN:
            self.unknown += 1
            self.unknown_received += received
            if received > 1:
                self.problems.append(f"{row.tracker} outcome unknown, emulator has it {received}x")
        elif row.state == FAILED:
            self.failed[row.last_error] += 1
            if received:
                self.problems.append(f"{row.tracker} failed ({row.last_error}) but was sent")
        else:
            self.problems.append(f"{row.tracker} left in state {row.state}")

    def summary(self) -> str:
        return (
            f"{self.total} deliveries: {self.reached} reached Meta exactly once; "
            f"{self.interrupted} interrupted ({self.interrupted_received} of them had reached "
            f"the emulator); {self.unknown} outcome unknown ({self.unknown_received} had reached "
            f"the emulator); {self.retries} retries on {self.retried_rows} rows; other failures "
            f"{dict(self.failed)}; recipients with duplicates {self.duplicates}"
        )
