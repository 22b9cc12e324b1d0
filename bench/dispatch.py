"""Dispatch: one post to N subscribers through the real emulator, paced and unpaced.

The app and the emulator run as separate processes: on SQLite `stadtbote run` with its
embedded worker, on PostgreSQL + Redis `stadtbote run --no-worker` plus `--workers` separate
`stadtbote worker` processes sharing the pace through Redis. The post is created and sent
through the REST API (`POST /api/v1/posts`, `…/submit`, then `…/approve` by a second account). A repetition ends
when no delivery of the post is below ACCEPTED (15) any more; the time it ends is the last
`dispatched_at` the app recorded (its clock), so the polling interval does not count.

- `paced`: WHATSAPP_MESSAGES_PER_SECOND=--rate for the app's pacer and the emulator's
  throughput limit (a token bucket of that many per second that starts full, error 130429
  beyond it). Expected: the rate at the emulator, no 130429, and a run that takes little more
  than N / rate: `taken_of_ideal` is the time from the approval's answer (the fan-out is done,
  sending may start) to the last acceptance, divided by N / rate.
- `unpaced`: WHATSAPP_MESSAGES_PER_SECOND=0 on both sides: the sender's raw throughput.

The emulator keeps sending `sent`/`delivered` status webhooks back to the app while it sends,
as Meta does; they are part of the load (`--webhook-batch K` puts up to K statuses in one POST,
`--no-webhooks` sends none). Between repetitions the emulator is reset (its log, its bucket and
its webhook queue) and the app's queue is allowed to drain. CPU seconds per process (web,
workers, emulator) are read from /proc around each repetition.

    .venv/bin/python bench/dispatch.py [--n 1600] [--repeat 3] [--modes paced,unpaced]
                                       [--rate 80] [--backends sqlite,postgres] [--workers 2]
                                       [--webhook-batch 1] [--no-webhooks] [--wait-delivered]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import re
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import (
    Staff,
    api,
    base_env,
    db_counter,
    emit,
    free_port,
    fresh_postgres,
    log,
    machine,
    median,
    process_pids,
    process_stat,
    queue_length,
    redis_flushed,
    request,
    run_seed,
    scratch_dir,
    start_stack,
)

RUN_TIMEOUT = 1800  # seconds: bounds one repetition
DRAIN_TIMEOUT = 300
ACCEPTED, DELIVERED, FAILED = 15, 30, 50
EMULATOR_REJECTED = re.compile(r'"POST /v[\d.]+/\d+/messages HTTP/1\.1" (\d{3})')
APP_BATCH = re.compile(r"Delivery: (\d+) accepted of (\d+)")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1600, help="active subscribers = messages")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--modes", default="paced,unpaced")
    parser.add_argument("--rate", type=int, default=80, help="messages per second when paced")
    parser.add_argument("--backends", default="sqlite")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (postgres)")
    parser.add_argument("--threads", type=int, default=2, help="STADTBOTE_WORKER_THREADS")
    parser.add_argument("--webhook-batch", type=int, default=1, help="statuses per webhook")
    parser.add_argument("--no-webhooks", action="store_true", help="no status webhooks at all")
    parser.add_argument(
        "--wait-delivered",
        action="store_true",
        help="also wait until every delivery reached DELIVERED (the status webhooks' round trip)",
    )
    return parser.parse_args(argv)


class Timeline(threading.Thread):
    """Samples the post's delivery states: (t, claimed, accepted, failed)."""

    def __init__(self, env: dict[str, str], post_id: int, interval: float) -> None:
        super().__init__(daemon=True)
        self._env, self._post, self._interval = env, post_id, interval
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
                self._stop_event.wait(self._interval)
        finally:
            counter.close()

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=10)

    def first(self, index: int, at_least: int = 1) -> float | None:
        return next((s[0] for s in self.samples if s[index] >= at_least), None)


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
        "slowest_whole_second": min(interior) if interior else None,
        "peak_messages_in_one_second": max(per_second.values()),
        "distinct_recipients": len(set(m["to"] for m in body["messages"] if m["to"] in numbers)),
        # Sends in each whole second from the first to the last: where a run stalled.
        "per_second": [per_second.get(t, 0) for t in range(first, last + 1)],
    }


def wait_quiet(env: dict[str, str], counter: Any) -> float:
    """Until the app has applied every stored webhook and its queue is empty (bounded)."""
    started = time.monotonic()
    deadline = started + DRAIN_TIMEOUT
    while time.monotonic() < deadline:
        pending = int(
            counter.scalar("SELECT count(*) FROM channels_inboundwebhook WHERE state = 'pending'")
        )
        if pending == 0 and queue_length(env) == 0:
            break
        time.sleep(0.25)
    return time.monotonic() - started


def cpu_by_process(pids: dict[str, int]) -> dict[str, float]:
    return {name: stat[0] for name, pid in pids.items() if (stat := process_stat(pid))}


def as_datetime(value: Any) -> datetime:
    """A timestamp read from either database (SQLite gives text in UTC without an offset)."""
    stamp = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def one_repetition(
    stack: Any,
    env: dict[str, str],
    author: Staff,
    approver: Staff,
    numbers: set[str],
    rep: int,
    args: argparse.Namespace,
    mode: str,
) -> dict[str, Any]:
    n = args.n
    rate = args.rate if mode == "paced" else 0
    status, _ = request("POST", f"{stack.emulator_url}/_emulator/reset", {})
    assert status == 200
    emulator_log_at = log_size(stack, "emulator")
    app_logs_at = {
        name: log_size(stack, name) for name in process_pids(stack) if name != "emulator"
    }
    status, post = api(
        author,
        "POST",
        "/posts",
        {
            "title": f"Bench {mode} {rep}",
            "text": "Die Hauptstraße ist ab Montag gesperrt. https://example.org/baustelle",
        },
    )
    assert status == 201, post
    status, submitted = api(author, "POST", f"/posts/{post['id']}/submit")
    assert status == 200, submitted
    counter = db_counter(env)
    poll = 0.05 if n <= 20_000 else 0.5  # counting a big post often would load the database
    timeline = Timeline(env, post["id"], max(0.1, poll))
    timeline.start()
    pids = process_pids(stack)
    cpu_before = cpu_by_process(pids)
    t0_wall = datetime.now().astimezone()
    t0 = time.monotonic()
    status, approved = api(approver, "POST", f"/posts/{post['id']}/approve", {})
    send_call = time.monotonic() - t0
    assert status == 200 and approved["status"] == "sending", approved
    below_accepted = (
        f"SELECT count(*) FROM broadcasts_delivery WHERE post_id = ? AND state < {ACCEPTED}"
    )
    done_at = None
    deadline = t0 + RUN_TIMEOUT
    while time.monotonic() < deadline:
        if int(counter.scalar(below_accepted, [post["id"]])) == 0:
            done_at = time.monotonic()
            break
        time.sleep(poll)
    cpu_after = cpu_by_process(pids)
    delivered_at = None
    if args.wait_delivered and done_at is not None:
        left = f"SELECT count(*) FROM broadcasts_delivery WHERE post_id = ? AND state < {DELIVERED}"
        while time.monotonic() < deadline:
            if int(counter.scalar(left, [post["id"]])) == 0:
                delivered_at = time.monotonic()
                break
            time.sleep(0.25)
    timeline.stop()

    def count(condition: str) -> int:
        sql = f"SELECT count(*) FROM broadcasts_delivery WHERE post_id = ? AND {condition}"
        return int(counter.scalar(sql, [post["id"]]))

    accepted = count(f"state >= {ACCEPTED} AND state < {FAILED}")
    failed = count(f"state = {FAILED}")
    delivered_now = count(f"state >= {DELIVERED} AND state < {FAILED}")
    retried = count("attempts > 1")
    first_recorded, last_recorded = counter.row(
        "SELECT MIN(dispatched_at), MAX(dispatched_at) FROM broadcasts_delivery WHERE post_id = ?",
        [post["id"]],
    ) or (None, None)
    seen = emulator_rate(stack, numbers)
    # Every send the emulator refused shows in its access log; 400 on /messages is 130429 here.
    codes = collections.Counter(
        EMULATOR_REJECTED.findall(log_since(stack, "emulator", emulator_log_at))
    )
    batches = [
        b for name, at in app_logs_at.items() for b in APP_BATCH.findall(log_since(stack, name, at))
    ]
    status, counts = api(author, "GET", f"/posts/{post['id']}/deliveries")
    request("POST", f"{stack.emulator_url}/_emulator/reset", {})  # stop the status webhooks
    quiet = wait_quiet(env, counter)
    counter.close()
    first_claim = timeline.first(1)
    # The app's own record of the last acceptance, on its clock; the poll only confirms it.
    total = None
    if done_at is not None and last_recorded is not None:
        total = (as_datetime(last_recorded) - t0_wall).total_seconds()
    ideal = n / rate if rate else None
    cpu = {name: cpu_after[name] - cpu_before[name] for name in cpu_after if name in cpu_before}
    result = {
        "messages": n,
        "approve_request_seconds": send_call,
        "first_claimed_after_seconds": None if first_claim is None else first_claim - t0,
        "first_accepted_recorded_after_seconds": None
        if first_recorded is None
        else (as_datetime(first_recorded) - t0_wall).total_seconds(),
        "all_accepted_after_seconds": total,
        "all_accepted_seen_by_poll_after_seconds": None if done_at is None else done_at - t0,
        "ideal_seconds": ideal,
        "sending_seconds": None if total is None else total - send_call,
        "taken_of_ideal": None if ideal is None or not total else (total - send_call) / ideal,
        "accepted_per_second_overall": None if not total else accepted / total,
        "accepted": accepted,
        "failed": failed,
        "deliveries_retried": retried,
        "emulator": seen,
        "emulator_http_status_counts": dict(codes),
        "emulator_130429": codes.get("400", 0),
        "app_send_batches": len(batches),
        "app_send_attempts": sum(int(b[1]) for b in batches),
        "app_send_errors": sum(int(b[1]) - int(b[0]) for b in batches),
        "cpu_seconds": cpu,
        "cpu_us_per_message": {k: v / n * 1e6 for k, v in cpu.items()},
        "delivered_when_all_accepted": delivered_now,
        "all_delivered_after_seconds": None if delivered_at is None else delivered_at - t0,
        "api_counts": counts if status == 200 else None,
        "seconds_to_quiet_before_next": quiet,
        "loadavg_1_5_15_after": [round(x, 2) for x in os.getloadavg()],
    }
    log(
        f"  {mode} rep {rep}: all accepted after {total if total is None else round(total, 2)} s"
        f" (ideal {ideal}), emulator steady {seen.get('steady_messages_per_second')}/s, "
        f"peak {seen.get('peak_messages_in_one_second')}/s, 130429: {result['emulator_130429']}, "
        f"cpu { ({k: round(v, 1) for k, v in cpu.items()}) }, load {result['loadavg_1_5_15_after']}"
    )
    return result


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in (
        "all_accepted_after_seconds",
        "sending_seconds",
        "taken_of_ideal",
        "accepted_per_second_overall",
        "first_claimed_after_seconds",
        "first_accepted_recorded_after_seconds",
        "approve_request_seconds",
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
    out["cpu_us_per_message"] = {
        name: median(
            [r["cpu_us_per_message"][name] for r in runs if name in r["cpu_us_per_message"]]
        )
        for name in runs[0]["cpu_us_per_message"]
    }
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


def run_mode(backend: str, mode: str, args: argparse.Namespace) -> dict[str, Any]:
    rate = args.rate if mode == "paced" else 0
    with contextlib.ExitStack() as cleanup:
        data = cleanup.enter_context(scratch_dir(f"dispatch-{backend}-{mode}"))
        emulator_port, app_port = free_port(), free_port()
        extra = {
            "WHATSAPP_MESSAGES_PER_SECOND": str(rate),
            "STADTBOTE_WORKER_THREADS": str(args.threads),
            # Throughput only: every simulated citizen counts as inside the 24-hour window and
            # the tier limit of unique users is off, so a free-form post is deliverable; so is
            # the pair rate (one citizen gets one message here anyway).
            "EMULATOR_SERVICE_WINDOW": "0",
            "EMULATOR_MESSAGING_LIMIT": "0",
            "EMULATOR_PAIR_RATE_BURST": "0",
            "EMULATOR_WEBHOOK_BATCH_SIZE": str(args.webhook_batch),
        }
        workers = 0
        if backend == "postgres":
            extra["DATABASE_URL"] = cleanup.enter_context(fresh_postgres("dispatch"))
            extra["REDIS_URL"] = cleanup.enter_context(redis_flushed())
            workers = args.workers
        env = base_env(data, emulator_port=emulator_port, **extra)
        stack = start_stack(
            env,
            app_port=app_port,
            emulator_port=emulator_port,
            workers=workers,
            webhooks=not args.no_webhooks,
        )
        cleanup.callback(stack.stop)
        seeded = run_seed(env, "subscribers", str(args.n), timeout=1800)
        author = Staff(stack.app_url, run_seed(env, "staff")["token"])
        approver = Staff(stack.app_url, run_seed(env, "staff", "--username", "approver")["token"])
        first = int(seeded["first_number"])
        numbers = {str(first + i) for i in range(args.n)}
        log(
            f"dispatch {backend} {mode}: {args.n} subscribers, rate {rate or 'off'}, "
            f"{workers or 'embedded'} worker(s), seeded in {seeded['seconds']} s"
        )
        runs = []
        try:
            for rep in range(args.repeat):
                runs.append(one_repetition(stack, env, author, approver, numbers, rep, args, mode))
        except Exception:
            sys.stderr.write(stack.logs())
            raise
        return {
            "messages_per_second_setting": rate,
            "worker_processes": workers or "embedded",
            "worker_threads": args.threads,
            "median": summarise(runs),
            "runs": runs,
        }


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    results = {b: {mode: run_mode(b, mode, args) for mode in modes} for b in backends}
    ratios: dict[str, Any] = {}
    for backend, by_mode in results.items():
        if "paced" in by_mode and "unpaced" in by_mode:
            p, u = by_mode["paced"]["median"], by_mode["unpaced"]["median"]
            if p.get("accepted_per_second_overall") and u.get("accepted_per_second_overall"):
                ratios[f"{backend}_unpaced_vs_paced"] = (
                    u["accepted_per_second_overall"] / p["accepted_per_second_overall"]
                )
    if "sqlite" in results and "postgres" in results:
        for mode in modes:
            s = results["sqlite"][mode]["median"].get("accepted_per_second_overall")
            p = results["postgres"][mode]["median"].get("accepted_per_second_overall")
            if s and p:
                ratios[f"{mode}_postgres_vs_sqlite"] = p / s
    emit(
        {
            "benchmark": "dispatch",
            "what": "one post to N subscribers via the REST API, app + emulator as processes",
            "machine": machine(),
            "n": args.n,
            "repeat": args.repeat,
            "rate_when_paced": args.rate,
            "status_webhooks": "none" if args.no_webhooks else f"{args.webhook_batch} per POST",
            "results": results,
            "ratios": ratios,
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
