"""A post to many subscribers being sent through the real emulator: what bench/worker_memory.py
and bench/urgent_latency.py look at while it goes out.

The stack is started as in bench/dispatch.py: SQLite with the worker embedded in `stadtbote
run`, or PostgreSQL + Redis with `stadtbote run --no-worker` and `workers` separate `stadtbote
worker` processes. The subscribers are seeded, the big post is created, submitted and approved
through the REST API (by two staff accounts), and the context yields while it is being sent.
Afterwards the post is cancelled and every process stopped; scratch directories and the
database are removed. With `analyze` (PostgreSQL only) the deliveries are analyzed right after
the approval, as autovacuum would do on a server where it is on.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from common import (
    Staff,
    api,
    base_env,
    db_counter,
    free_port,
    fresh_postgres,
    log,
    process_pids,
    redis_flushed,
    run_seed,
    scratch_dir,
    start_stack,
)

ACCEPTED, FAILED = 15, 50
# Approving fans the post out inside the request, cancelling withdraws what is still queued:
# each takes about a minute for a million recipients on PostgreSQL.
APPROVAL_TIMEOUT = 600
TEXT = "Die Hauptstraße ist ab Montag gesperrt. https://example.org/baustelle"


@dataclass
class BigPost:
    stack: Any
    env: dict[str, str]
    author: Staff
    approver: Staff
    post_id: int
    approved_at: float  # monotonic, when the approval call returned
    topic_numbers: list[str] = field(default_factory=list)

    @property
    def worker_pids(self) -> dict[str, int]:
        """The processes that send: the embedded `run` process, or the worker processes."""
        pids = process_pids(self.stack)
        workers = {k: v for k, v in pids.items() if k.startswith("worker")}
        return workers or {"web": pids["web"]}

    def accepted(self) -> int:
        counter = db_counter(self.env)
        try:
            return int(
                counter.scalar(
                    "SELECT count(*) FROM broadcasts_delivery WHERE post_id = ?"
                    f" AND state >= {ACCEPTED} AND state < {FAILED}",
                    [self.post_id],
                )
            )
        finally:
            counter.close()


def create_and_approve(post: dict[str, Any], author: Staff, approver: Staff) -> tuple[int, float]:
    """Create, submit and approve a post; returns its id and when the approval returned."""
    status, created = api(author, "POST", "/posts", post)
    assert status == 201, created
    status, submitted = api(author, "POST", f"/posts/{created['id']}/submit")
    assert status == 200, submitted
    status, approved = api(
        approver, "POST", f"/posts/{created['id']}/approve", {}, timeout=APPROVAL_TIMEOUT
    )
    returned = time.monotonic()
    assert status == 200 and approved["status"] == "sending", approved
    return created["id"], returned


def analyze_deliveries(database_url: str) -> None:
    """ANALYZE the deliveries after the fan-out, as autovacuum does on a server where it is on
    (within its naptime, a minute by default); the benchmark server may run without it, and a
    table of a million deliveries without statistics can get a claim plan that sorts every
    waiting row of the post for each batch."""
    import psycopg

    started = time.monotonic()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("ANALYZE broadcasts_delivery")
    log(f"big post: ANALYZE broadcasts_delivery took {time.monotonic() - started:.1f} s")


@contextlib.contextmanager
def big_post(
    backend: str,
    *,
    n: int,
    rate: int,
    workers: int = 2,
    threads: int = 2,
    webhook_batch: int = 1,
    webhooks: bool = True,
    topic_audience: int = 0,
    analyze: bool = False,
) -> Iterator[BigPost]:
    with contextlib.ExitStack() as cleanup:
        data = cleanup.enter_context(scratch_dir(f"big-post-{backend}"))
        emulator_port, app_port = free_port(), free_port()
        extra = {
            "WHATSAPP_MESSAGES_PER_SECOND": str(rate),
            "STADTBOTE_WORKER_THREADS": str(threads),
            # As in bench/dispatch.py: Meta's per-citizen rules off, throughput on.
            "EMULATOR_SERVICE_WINDOW": "0",
            "EMULATOR_MESSAGING_LIMIT": "0",
            "EMULATOR_PAIR_RATE_BURST": "0",
            "EMULATOR_WEBHOOK_BATCH_SIZE": str(webhook_batch),
        }
        if backend == "postgres":
            extra["DATABASE_URL"] = cleanup.enter_context(fresh_postgres("bigpost"))
            extra["REDIS_URL"] = cleanup.enter_context(redis_flushed())
        else:
            workers = 0
        env = base_env(data, emulator_port=emulator_port, **extra)
        stack = start_stack(
            env, app_port=app_port, emulator_port=emulator_port, workers=workers, webhooks=webhooks
        )
        cleanup.callback(stack.stop)
        started = time.monotonic()
        run_seed(env, "subscribers", str(n), timeout=3600)
        numbers: list[str] = []
        if topic_audience:
            numbers = run_seed(env, "topic", "bench-warn", str(topic_audience))["numbers"]
        author = Staff(stack.app_url, run_seed(env, "staff")["token"])
        approver = Staff(stack.app_url, run_seed(env, "staff", "--username", "approver")["token"])
        log(
            f"big post {backend}: {n + topic_audience:,} subscribers seeded in "
            f"{time.monotonic() - started:.1f} s, rate {rate or 'off'}, "
            f"{workers or 'embedded'} worker(s)"
        )
        post_id, approved_at = create_and_approve(
            {"title": "Big post", "text": TEXT}, author, approver
        )
        if analyze and backend == "postgres":
            analyze_deliveries(env["DATABASE_URL"])
        try:
            yield BigPost(stack, env, author, approver, post_id, approved_at, numbers)
        finally:
            # Withdrawing what is still queued (most of a million) takes a while on PostgreSQL;
            # the processes are stopped in any case, so a failure here only costs a log line.
            try:
                api(approver, "POST", f"/posts/{post_id}/cancel", timeout=APPROVAL_TIMEOUT)
            except OSError as exc:
                log(f"big post: cancelling failed ({type(exc).__name__}); stopping anyway")
