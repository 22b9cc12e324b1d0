"""Dispatch: one post to N subscribers through the real emulator, paced and unpaced.

The app (`stadtbote run`, SQLite, embedded worker) and the emulator run as separate
processes; the post is created and sent through the REST API (`POST /api/v1/posts`,
`POST /api/v1/posts/{id}/send`). A repetition ends when no delivery of the post is below
ACCEPTED (15) any more.

- `paced`: WHATSAPP_MESSAGES_PER_SECOND=80 for the app's pacer and the emulator's
  throughput limit (a token bucket of 80/s that starts full, error 130429 beyond it).
  Expected: about 80 messages/s at the emulator and no 130429.
- `unpaced`: WHATSAPP_MESSAGES_PER_SECOND=0 on both sides: the raw throughput of the sender
  (claim, build, send through aiohttp, record), to show it is not the bottleneck at 80/s.

The emulator keeps sending `sent`/`delivered` status webhooks back to the app while it sends,
as Meta does; they are part of the load. Between repetitions the emulator is reset (its log,
its bucket and its webhook queue) and the app's queue is allowed to drain.

    .venv/bin/python bench/dispatch.py [--n 1600] [--repeat 3] [--modes paced,unpaced]
                                       [--rate 80] [--wait-delivered]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any

from common import (
    base_env,
    db_counter,
    emit,
    free_port,
    log,
    machine,
    median,
    request,
    run_seed,
    scratch_dir,
    start_stack,
)

RUN_TIMEOUT = 600  # seconds: bounds one repetition
DRAIN_TIMEOUT = 120
ACCEPTED, DELIVERED, FAILED = 15, 30, 50
EMULATOR_REJECTED = re.compile(r'"POST /v[\d.]+/\d+/messages HTTP/1\.1" (\d{3})')
APP_BATCH = re.compile(r"Delivery: (\d+) accepted of (\d+)")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1600, help="active subscribers = messages")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--modes", default="paced,unpaced")
    parser.add_argument("--rate", type=int, default=80, help="messages per second when paced")
    parser.add_argument("--threads", type=int, default=2, help="STADTBOTE_WORKER_THREADS")
    parser.add_argument(
        "--wait-delivered",
        action="store_true",
        help="also wait until every delivery reached DELIVERED (the status webhooks' round trip)",
    )
    return parser.parse_args(argv)


class Timeline(threading.Thread):
    """Samples the post's delivery states every 0.1 s: (t, claimed, accepted, failed)."""

    def __init__(self, env: dict[str, str], post_id: int) -> None:
        super().__init__(daemon=True)
        self._env, self._post = env, post_id
        self.samples: list[tuple[float, int, int, int]] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        counter = db_counter(self._env)
        sql = (
            "SELECT COALESCE(SUM(CASE WHEN state >= 10 THEN 1 ELSE 0 END), 0),"
            f" COALESCE(SUM(CASE WHEN state >= {ACCEPTED} AND state < {FAILED} THEN 1 ELSE 0 END), 0),"
            f" COALESCE(SUM(CASE WHEN state = {FAILED} THEN 1 ELSE 0 END), 0)"
            " FROM broadcasts_delivery WHERE post_id = ?"
        )
        try:
            while not self._stop_event.is_set():
                with contextlib.suppress(Exception):
                    row = counter.row(sql, [self._post])
                    assert row is not None
                    self.samples.append((time.monotonic(), int(row[0]), int(row[1]), int(row[2])))
                self._stop_event.wait(0.1)
        finally:
            counter.close()

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=10)

    def first(self, index: int, at_least: int = 1) -> float | None:
        return next((s[0] for s in self.samples if s[index] >= at_least), None)


def api(stack: Any, token: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    return request(
        method, f"{stack.app_url}/api/v1{path}", body, {"Authorization": f"Bearer {token}"}
    )


def log_size(stack: Any, name: str) -> int:
    path = Path(stack.workdir) / f"{name}.log"
    return path.stat().st_size if path.exists() else 0


def log_since(stack: Any, name: str, offset: int) -> str:
    with (Path(stack.workdir) / f"{name}.log").open("rb") as f:
        f.seek(offset)
        return f.read().decode(errors="replace")


def emulator_rate(stack: Any, numbers: set[str]) -> dict[str, Any]:
    """The send rate as the emulator saw it, from its log of accepted sends (whole seconds)."""
    status, body = request("GET", f"{stack.emulator_url}/_emulator/messages")
    if status != 200:
        return {"error": f"HTTP {status}"}
    stamps = [m["timestamp"] for m in body["messages"] if m["to"] in numbers]
    per_second = collections.Counter(stamps)
    if not stamps:
        return {"accepted": 0}
    first, last = min(stamps), max(stamps)
    # Whole seconds strictly inside the run; the first and last are partial.
    interior = [per_second.get(t, 0) for t in range(first + 1, last)]
    return {
        "accepted": len(stamps),
        "seconds_spanned": last - first + 1,
        "steady_messages_per_second": (sum(interior) / len(interior)) if interior else None,
        "peak_messages_in_one_second": max(per_second.values()),
        "distinct_recipients": len(set(m["to"] for m in body["messages"] if m["to"] in numbers)),
    }


def wait_quiet(stack: Any, env: dict[str, str], counter: Any) -> float:
    """Until the app has applied every stored webhook and its queue is empty (bounded)."""
    started = time.monotonic()
    deadline = started + DRAIN_TIMEOUT
    queue = Path(env["STADTBOTE_DATA_DIR"]) / "queue.sqlite3"
    import sqlite3

    while time.monotonic() < deadline:
        pending = int(
            counter.scalar("SELECT count(*) FROM channels_inboundwebhook WHERE state = 'pending'")
        )
        with contextlib.closing(sqlite3.connect(queue, timeout=30)) as q:
            jobs = int(q.execute("SELECT count(*) FROM task").fetchone()[0])
        if pending == 0 and jobs == 0:
            break
        time.sleep(0.25)
    return time.monotonic() - started


def one_repetition(
    stack: Any,
    env: dict[str, str],
    token: str,
    numbers: set[str],
    rep: int,
    args: argparse.Namespace,
    mode: str,
) -> dict[str, Any]:
    n = args.n
    status, _ = request("POST", f"{stack.emulator_url}/_emulator/reset", {})
    assert status == 200
    emulator_log_at, web_log_at = log_size(stack, "emulator"), log_size(stack, "web")
    status, post = api(
        stack,
        token,
        "POST",
        "/posts",
        {
            "title": f"Bench {mode} {rep}",
            "text": "Die Hauptstraße ist ab Montag gesperrt. https://example.org/baustelle",
        },
    )
    assert status == 201, post
    counter = db_counter(env)
    timeline = Timeline(env, post["id"])
    timeline.start()
    t0 = time.monotonic()
    status, sent = api(stack, token, "POST", f"/posts/{post['id']}/send")
    send_call = time.monotonic() - t0
    assert status == 202 and sent["queued"] == n, sent
    below_accepted = (
        f"SELECT count(*) FROM broadcasts_delivery WHERE post_id = ? AND state < {ACCEPTED}"
    )
    done_at = None
    deadline = t0 + RUN_TIMEOUT
    while time.monotonic() < deadline:
        if int(counter.scalar(below_accepted, [post["id"]])) == 0:
            done_at = time.monotonic()
            break
        time.sleep(0.05)
    delivered_at = None
    if args.wait_delivered and done_at is not None:
        while time.monotonic() < deadline:
            left = f"SELECT count(*) FROM broadcasts_delivery WHERE post_id = ? AND state < {DELIVERED}"
            if int(counter.scalar(left, [post["id"]])) == 0:
                delivered_at = time.monotonic()
                break
            time.sleep(0.1)
    timeline.stop()
    accepted = int(
        counter.scalar(
            f"SELECT count(*) FROM broadcasts_delivery WHERE post_id = ? AND state >= {ACCEPTED} AND state < {FAILED}",
            [post["id"]],
        )
    )
    failed = int(
        counter.scalar(
            f"SELECT count(*) FROM broadcasts_delivery WHERE post_id = ? AND state = {FAILED}",
            [post["id"]],
        )
    )
    delivered_now = int(
        counter.scalar(
            f"SELECT count(*) FROM broadcasts_delivery WHERE post_id = ? AND state >= {DELIVERED} AND state < {FAILED}",
            [post["id"]],
        )
    )
    retried = int(
        counter.scalar(
            "SELECT count(*) FROM broadcasts_delivery WHERE post_id = ? AND attempts > 1",
            [post["id"]],
        )
    )
    seen = emulator_rate(stack, numbers)
    # Every send the emulator refused shows in its access log; 400 on /messages is 130429 here.
    codes = collections.Counter(
        EMULATOR_REJECTED.findall(log_since(stack, "emulator", emulator_log_at))
    )
    batches = APP_BATCH.findall(log_since(stack, "web", web_log_at))
    status, counts = api(stack, token, "GET", f"/posts/{post['id']}/deliveries")
    request("POST", f"{stack.emulator_url}/_emulator/reset", {})  # stop the status webhooks
    quiet = wait_quiet(stack, env, counter)
    counter.close()
    first_claim = timeline.first(1)
    total = None if done_at is None else done_at - t0
    result = {
        "messages": n,
        "send_request_seconds": send_call,
        "first_claimed_after_seconds": None if first_claim is None else first_claim - t0,
        "all_accepted_after_seconds": total,
        "accepted_per_second_overall": None if total is None else accepted / total,
        "accepted_per_second_after_first_claim": None
        if done_at is None or first_claim is None
        else accepted / (done_at - first_claim),
        "accepted": accepted,
        "failed": failed,
        "deliveries_retried": retried,
        "emulator": seen,
        "emulator_http_status_counts": dict(codes),
        "emulator_130429": codes.get("400", 0),
        "app_send_batches": len(batches),
        "app_send_attempts": sum(int(b[1]) for b in batches),
        "app_send_errors": sum(int(b[1]) - int(b[0]) for b in batches),
        "delivered_when_all_accepted": delivered_now,
        "all_delivered_after_seconds": None if delivered_at is None else delivered_at - t0,
        "api_counts": counts if status == 200 else None,
        "seconds_to_quiet_before_next": quiet,
    }
    log(
        f"  {mode} rep {rep}: all accepted after {total if total is None else round(total, 1)} s, "
        f"emulator steady {seen.get('steady_messages_per_second')}/s, "
        f"peak {seen.get('peak_messages_in_one_second')}/s, 130429: {result['emulator_130429']}, "
        f"first claim after {result['first_claimed_after_seconds']}"
    )
    return result


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in (
        "all_accepted_after_seconds",
        "accepted_per_second_overall",
        "accepted_per_second_after_first_claim",
        "first_claimed_after_seconds",
        "send_request_seconds",
        "all_delivered_after_seconds",
    ):
        out[key] = median([r[key] for r in runs if r.get(key) is not None])
    out["emulator_steady_messages_per_second"] = median(
        [
            r["emulator"]["steady_messages_per_second"]
            for r in runs
            if r["emulator"].get("steady_messages_per_second") is not None
        ]
    )
    out["emulator_peak_messages_in_one_second"] = max(
        (r["emulator"].get("peak_messages_in_one_second", 0) for r in runs), default=None
    )
    out["emulator_130429_total"] = sum(r["emulator_130429"] for r in runs)
    out["app_send_errors_total"] = sum(r["app_send_errors"] for r in runs)
    out["failed_total"] = sum(r["failed"] for r in runs)
    out["complete"] = all(
        r["all_accepted_after_seconds"] is not None
        and r["accepted"] == r["messages"]
        and r["emulator"].get("distinct_recipients") == r["messages"]
        for r in runs
    )
    return out


def run_mode(mode: str, args: argparse.Namespace) -> dict[str, Any]:
    rate = args.rate if mode == "paced" else 0
    with contextlib.ExitStack() as cleanup:
        data = cleanup.enter_context(scratch_dir(f"dispatch-{mode}"))
        emulator_port, app_port = free_port(), free_port()
        env = base_env(
            data,
            emulator_port=emulator_port,
            WHATSAPP_MESSAGES_PER_SECOND=str(rate),
            STADTBOTE_WORKER_THREADS=str(args.threads),
            # Throughput only: every simulated citizen counts as inside the 24-hour window and
            # the tier limit of unique users is off, so a free-form post is deliverable.
            EMULATOR_SERVICE_WINDOW="0",
            EMULATOR_MESSAGING_LIMIT="0",
        )
        stack = start_stack(env, app_port=app_port, emulator_port=emulator_port)
        cleanup.callback(stack.stop)
        seeded = run_seed(env, "subscribers", str(args.n))
        token = run_seed(env, "staff")["token"]
        first = int(seeded["first_number"])
        numbers = {str(first + i) for i in range(args.n)}
        log(f"dispatch {mode}: {args.n} subscribers, rate {rate or 'off'}")
        runs = []
        try:
            for rep in range(args.repeat):
                runs.append(one_repetition(stack, env, token, numbers, rep, args, mode))
        except Exception:
            sys.stderr.write(stack.logs())
            raise
        return {
            "messages_per_second_setting": rate,
            "worker_threads": args.threads,
            "median": summarise(runs),
            "runs": runs,
        }


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    results = {mode: run_mode(mode, args) for mode in modes}
    ratios = {}
    if "paced" in results and "unpaced" in results:
        p, u = results["paced"]["median"], results["unpaced"]["median"]
        if p.get("accepted_per_second_overall") and u.get("accepted_per_second_overall"):
            ratios["unpaced_vs_paced_accepted_per_second"] = (
                u["accepted_per_second_overall"] / p["accepted_per_second_overall"]
            )
        if u.get("accepted_per_second_overall"):
            ratios["unpaced_vs_rate_setting"] = u["accepted_per_second_overall"] / args.rate
    emit(
        {
            "benchmark": "dispatch",
            "what": "one post to N subscribers via the REST API, app + emulator as processes",
            "machine": machine(),
            "n": args.n,
            "repeat": args.repeat,
            "results": results,
            "ratios": ratios,
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
