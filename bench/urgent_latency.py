"""Urgent latency: how soon an urgent post's first message reaches the emulator after its
approval, while a post to a million subscribers is being sent.

A post to `--n` subscribers is approved (see bench/big_post.py); after `--settle` seconds of
sending, `--repeat` urgent posts are created, submitted and approved through the REST API, one
after another `--gap` seconds apart, each for an opt-in-only topic that only `--audience`
further subscribers chose (a warning for one street, say). The clock starts when the approval
call returns. It stops when the emulator shows the first of those subscribers with the urgent
message in their chat: every audience member's chat is polled concurrently
(`GET /_emulator/users/{wa_id}/messages`) every `--poll` seconds, so the figure is an upper
bound, late by at most one poll plus the answer's time. The app's own record (the first
`dispatched_at` of the urgent post, when the worker recorded Meta's answer) is given beside it.

    .venv/bin/python bench/urgent_latency.py [--backends sqlite,postgres] [--n 1000000]
                                             [--rate 1000] [--repeat 5] [--audience 5]
                                             [--analyze]
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from big_post import big_post, create_and_approve
from common import db_counter, emit, log, machine, median, request

TIMEOUT = 60.0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--n", type=int, default=1_000_000, help="recipients of the big post")
    parser.add_argument("--rate", type=int, default=1000, help="messages per second (0: off)")
    parser.add_argument("--repeat", type=int, default=5, help="urgent posts, one after another")
    parser.add_argument("--audience", type=int, default=5, help="recipients of an urgent post")
    parser.add_argument("--settle", type=float, default=30.0, help="seconds before the first")
    parser.add_argument("--gap", type=float, default=10.0, help="seconds between urgent posts")
    parser.add_argument("--poll", type=float, default=0.01, help="seconds between polls")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (postgres)")
    parser.add_argument("--webhook-batch", type=int, default=1, help="statuses per webhook")
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="PostgreSQL: ANALYZE the deliveries after the approval (as autovacuum would)",
    )
    return parser.parse_args(argv)


def first_arrival(emulator_url: str, numbers: list[str], marker: str, poll: float) -> float | None:
    """Monotonic time at which the first of `numbers` was seen with a message containing
    `marker`; None after TIMEOUT."""
    found = threading.Event()
    seen: list[float] = []
    deadline = time.monotonic() + TIMEOUT

    def watch(number: str) -> None:
        while not found.is_set() and time.monotonic() < deadline:
            status, body = request("GET", f"{emulator_url}/_emulator/users/{number}/messages")
            if status == 200 and any(
                m["direction"] == "out" and marker in (m.get("text") or "")
                for m in body["messages"]
            ):
                seen.append(time.monotonic())
                found.set()
                return
            time.sleep(poll)

    with ThreadPoolExecutor(len(numbers)) as pool:
        list(pool.map(watch, numbers))
    return min(seen) if seen else None


def app_first_record(env: dict[str, str], post_id: int) -> datetime | None:
    counter = db_counter(env)
    try:
        value = counter.scalar(
            "SELECT MIN(dispatched_at) FROM broadcasts_delivery WHERE post_id = ?", [post_id]
        )
    finally:
        counter.close()
    if value is None:
        return None
    stamp = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    with big_post(
        backend,
        n=args.n,
        rate=args.rate,
        workers=args.workers,
        webhook_batch=args.webhook_batch,
        analyze=args.analyze,
        topic_audience=args.audience,
    ) as post:
        time.sleep(args.settle)
        before, before_at = post.accepted(), time.monotonic()
        for rep in range(args.repeat):
            marker = f"Unwetterwarnung {rep + 1}"
            urgent = {
                "title": marker,
                "text": f"{marker}: Sturmböen bis 100 km/h, bitte bleiben Sie zu Hause.",
                "topics": ["bench-warn"],
                "urgent": True,
            }
            post_id, approved_at = create_and_approve(urgent, post.author, post.approver)
            approved_wall = datetime.now(UTC)
            arrived = first_arrival(post.stack.emulator_url, post.topic_numbers, marker, args.poll)
            time.sleep(1.0)  # the worker records the batch after Meta's answer
            recorded = app_first_record(post.env, post_id)
            run = {
                "first_message_at_emulator_after_seconds": None
                if arrived is None
                else arrived - approved_at,
                "first_recorded_by_app_after_seconds": None
                if recorded is None
                else (recorded - approved_wall).total_seconds(),
                "loadavg_1": round(os.getloadavg()[0], 2),
            }
            runs.append(run)
            log(f"urgent {backend} #{rep + 1}: {run}")
            time.sleep(args.gap)
        big_rate = (post.accepted() - before) / (time.monotonic() - before_at)
    latencies = [
        r["first_message_at_emulator_after_seconds"]
        for r in runs
        if r["first_message_at_emulator_after_seconds"] is not None
    ]
    return {
        "median_seconds": median(latencies),
        "max_seconds": max(latencies, default=None),
        "arrived": f"{len(latencies)} of {len(runs)}",
        "big_post_accepted_per_second_meanwhile": big_rate,
        "runs": runs,
    }


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    results = {backend: run_backend(backend, args) for backend in backends}
    emit(
        {
            "benchmark": "urgent_latency",
            "what": "approval of an urgent post to its first message at the emulator, "
            "while a big post is being sent",
            "machine": machine(),
            "n": args.n,
            "rate": args.rate,
            "audience": args.audience,
            "poll_seconds": args.poll,
            "analyze_after_approval": args.analyze,
            "results": results,
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
