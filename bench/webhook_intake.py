"""Webhook intake: signed status webhooks posted to a running app by concurrent clients.

Measures, per repetition, (1) the intake: requests per second and the latency of
`POST /webhooks/whatsapp` (verify the signature, store the raw body, schedule the apply job),
and (2) the apply: the time from the first POST until the worker has applied every stored
body (channels_inboundwebhook rows in state 'applied'), i.e. the apply throughput.

Each webhook is one distinct `sent` status for a delivery that exists (seeded as ACCEPTED),
so applying it records a StatusEvent and advances a real Delivery row; the benchmark checks
that every one of them reached SENT.

Backends: `sqlite` = `stadtbote run` (SQLite, embedded worker); `postgres` = PostgreSQL +
Redis with `stadtbote run --no-worker` and `--workers` `stadtbote worker` processes.

    .venv/bin/python bench/webhook_intake.py [--n 5000] [--concurrency 32] [--repeat 3]
                                             [--backends sqlite,postgres] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp

from common import (
    base_env,
    db_counter,
    emit,
    free_port,
    fresh_postgres,
    log,
    machine,
    median,
    percentile,
    redis_flushed,
    run_seed,
    scratch_dir,
    start_stack,
)

RUN_TIMEOUT = 600  # seconds: bounds one repetition (intake plus apply)
QUEUE_DRAIN_TIMEOUT = 120
STALL = 90  # seconds without progress in applying: give up on this repetition
HEALTH_REQUESTS = 1000


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="webhooks per repetition")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (postgres)")
    parser.add_argument("--threads", type=int, default=2, help="STADTBOTE_WORKER_THREADS")
    return parser.parse_args(argv)


# --- bodies as Meta sends them (tests/helpers.py status() inside envelope()) ----------------


def status_body(env: dict[str, str], message_id: str, recipient: str) -> bytes:
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": env["WHATSAPP_BUSINESS_ACCOUNT_ID"],
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "4915100000000",
                                "phone_number_id": env["WHATSAPP_PHONE_NUMBER_ID"],
                            },
                            "statuses": [
                                {
                                    "id": message_id,
                                    "status": "sent",
                                    "timestamp": str(int(time.time())),
                                    "recipient_id": recipient,
                                    "conversation": {
                                        "id": hashlib.md5(message_id.encode()).hexdigest(),
                                        "origin": {"type": "marketing"},
                                    },
                                    "pricing": {
                                        "billable": True,
                                        "pricing_model": "PMP",
                                        "category": "marketing",
                                        "type": "regular",
                                    },
                                }
                            ],
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def signed(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# --- the load: N POSTs from `concurrency` clients -------------------------------------------


async def get_all(url: str, n: int, concurrency: int) -> tuple[list[float], float]:
    """The same client against GET /health: what the web stack does without any work."""
    latencies: list[float] = []
    remaining = n
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=concurrency), timeout=aiohttp.ClientTimeout(total=60)
    ) as session:

        async def client() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                t0 = time.perf_counter()
                async with session.get(url) as response:
                    await response.read()
                latencies.append(time.perf_counter() - t0)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        return latencies, time.perf_counter() - started


async def post_all(
    url: str, requests: list[tuple[bytes, str]], concurrency: int, deadline: float
) -> tuple[list[float], dict[int, int], float]:
    latencies: list[float] = []
    codes: dict[int, int] = {}
    next_index = 0
    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def client() -> None:
            nonlocal next_index
            while next_index < len(requests) and time.monotonic() < deadline:
                body, signature = requests[next_index]
                next_index += 1
                t0 = time.perf_counter()
                try:
                    async with session.post(
                        url,
                        data=body,
                        headers={
                            "Content-Type": "application/json",
                            "X-Hub-Signature-256": signature,
                        },
                    ) as response:
                        await response.read()
                        code = response.status
                except (aiohttp.ClientError, TimeoutError):
                    code = -1
                latencies.append(time.perf_counter() - t0)
                codes[code] = codes.get(code, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        return latencies, codes, time.perf_counter() - started


class Sampler(threading.Thread):
    """Polls a count in the database every `interval` seconds: (monotonic time, count)."""

    def __init__(self, env: dict[str, str], sql: str, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self._env, self._sql, self._interval = env, sql, interval
        self.samples: list[tuple[float, int]] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        counter = db_counter(self._env)
        try:
            while not self._stop_event.is_set():
                with contextlib.suppress(Exception):
                    self.samples.append((time.monotonic(), int(counter.scalar(self._sql))))
                self._stop_event.wait(self._interval)
        finally:
            counter.close()

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=10)


def queue_length(env: dict[str, str]) -> int:
    """Jobs waiting in huey's queue (the SQLite file, or the Redis list)."""
    if env.get("REDIS_URL"):
        import redis

        client = redis.Redis.from_url(env["REDIS_URL"])
        try:
            return int(client.llen("huey.redis.stadtbote"))
        finally:
            client.close()
    path = Path(env["STADTBOTE_DATA_DIR"]) / "queue.sqlite3"
    if not path.exists():
        return 0
    with contextlib.closing(sqlite3.connect(path, timeout=30)) as conn:
        return int(conn.execute("SELECT count(*) FROM task").fetchone()[0])


def wait_for(check: Any, timeout: float, interval: float = 0.2) -> float | None:
    """Polls until check() is true; returns the monotonic time it became true, or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return time.monotonic()
        time.sleep(interval)
    return None


def wait_applied(
    counter: Any, applied_sql: str, pending_sql: str, target: int, deadline: float
) -> float | None:
    """Polls until nothing is pending and `target` rows are applied; gives up at the deadline
    or when the applied count has not moved for STALL seconds. Returns the monotonic time."""
    last, last_change = -1, time.monotonic()
    while time.monotonic() < deadline:
        applied = int(counter.scalar(applied_sql))
        if applied >= target and int(counter.scalar(pending_sql)) == 0:
            return time.monotonic()
        if applied != last:
            last, last_change = applied, time.monotonic()
        elif time.monotonic() - last_change > STALL:
            return None
        time.sleep(0.1)
    return None


def one_repetition(
    env: dict[str, str], app_url: str, seeded: dict[str, Any], rep: int, args: argparse.Namespace
) -> dict[str, Any]:
    n = args.n
    first = rep * n
    secret = env["WHATSAPP_APP_SECRET"]
    first_number = int(seeded["first_number"])
    requests = []
    for i in range(first, first + n):
        body = status_body(env, f"wamid.BENCH{i:08d}", str(first_number + i))
        requests.append((body, signed(secret, body)))

    counter = db_counter(env)
    applied_sql = "SELECT count(*) FROM channels_inboundwebhook WHERE state = 'applied'"
    before = int(counter.scalar(applied_sql))
    stored_before = int(counter.scalar("SELECT count(*) FROM channels_inboundwebhook"))
    sampler = Sampler(env, applied_sql)
    sampler.start()
    connections = None
    if env.get("DATABASE_URL"):
        connections = Sampler(
            env,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()",
            interval=0.5,
        )
        connections.start()
    t0 = time.monotonic()
    latencies, codes, intake_seconds = asyncio.run(
        post_all(f"{app_url}/webhooks/whatsapp", requests, args.concurrency, t0 + RUN_TIMEOUT)
    )
    t_intake = time.monotonic()
    applied_at_intake = int(counter.scalar(applied_sql)) - before
    stored = int(counter.scalar("SELECT count(*) FROM channels_inboundwebhook")) - stored_before
    pending_sql = "SELECT count(*) FROM channels_inboundwebhook WHERE state = 'pending'"
    done_at = wait_applied(counter, applied_sql, pending_sql, before + stored, t0 + RUN_TIMEOUT)
    jobs_left_at_done = queue_length(env)
    sampler.stop()
    if connections is not None:
        connections.stop()
    first_applied_at = next((t for t, c in sampler.samples if c > before), None)
    other_states = int(
        counter.scalar(
            "SELECT count(*) FROM channels_inboundwebhook WHERE state NOT IN ('applied', 'pending')"
        )
    )
    ids = [f"wamid.BENCH{i:08d}" for i in (first, first + n - 1)]
    advanced = int(
        counter.scalar(
            "SELECT count(*) FROM broadcasts_delivery WHERE message_id >= ? AND message_id <= ? AND state = 20",
            ids,
        )
    )
    counter.close()
    # The leftover apply jobs (one per webhook) are drained before the next repetition.
    drained_at = wait_for(lambda: queue_length(env) == 0, QUEUE_DRAIN_TIMEOUT)
    ok = codes.get(200, 0)
    apply_seconds = None if done_at is None else done_at - t0
    result = {
        "webhooks": n,
        "http_200": ok,
        "stored": stored,
        "http_other": {str(k): v for k, v in codes.items() if k != 200},
        "intake_seconds": intake_seconds,
        "requests_per_second": ok / intake_seconds,
        "responses_per_second": len(latencies) / intake_seconds,
        "latency_ms_median": 1000 * (median(latencies) or 0),
        "latency_ms_p95": 1000 * (percentile(latencies, 95) or 0),
        "latency_ms_max": 1000 * max(latencies, default=0),
        "applied_when_intake_finished": applied_at_intake,
        "first_applied_after_seconds": None if first_applied_at is None else first_applied_at - t0,
        "all_applied_after_seconds": apply_seconds,
        "apply_per_second": None if apply_seconds is None else stored / apply_seconds,
        "drain_after_intake_per_second": (
            None
            if done_at is None or done_at <= t_intake
            else (stored - applied_at_intake) / (done_at - t_intake)
        ),
        "apply_jobs_still_queued_when_all_applied": jobs_left_at_done,
        "seconds_to_drain_leftover_jobs": None
        if drained_at is None or done_at is None
        else max(0.0, drained_at - done_at),
        "malformed_or_failed": other_states,
        "max_open_db_connections": None
        if connections is None
        else max((c for _, c in connections.samples), default=None),
        "deliveries_advanced_to_sent": advanced,
    }
    log(
        f"  rep {rep}: {result['requests_per_second']:.0f} req/s, "
        f"p50 {result['latency_ms_median']:.1f} ms, p95 {result['latency_ms_p95']:.1f} ms, "
        f"all applied after {apply_seconds if apply_seconds is None else round(apply_seconds, 1)} s, "
        f"{jobs_left_at_done} jobs left"
    )
    return result


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = [
        "requests_per_second",
        "latency_ms_median",
        "latency_ms_p95",
        "intake_seconds",
        "first_applied_after_seconds",
        "all_applied_after_seconds",
        "apply_per_second",
        "drain_after_intake_per_second",
        "apply_jobs_still_queued_when_all_applied",
        "seconds_to_drain_leftover_jobs",
    ]
    out = {}
    for key in keys:
        values = [r[key] for r in runs if r.get(key) is not None]
        out[key] = median(values)
    out["complete"] = all(
        r["http_200"] == r["webhooks"] == r["deliveries_advanced_to_sent"]
        and r["all_applied_after_seconds"] is not None
        and r["malformed_or_failed"] == 0
        for r in runs
    )
    return out


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    with contextlib.ExitStack() as cleanup:
        data = cleanup.enter_context(scratch_dir(f"intake-{backend}"))
        env = base_env(data, STADTBOTE_WORKER_THREADS=str(args.threads))
        workers = 0
        if backend == "postgres":
            env["DATABASE_URL"] = cleanup.enter_context(fresh_postgres("intake"))
            env["REDIS_URL"] = cleanup.enter_context(redis_flushed())
            workers = args.workers
        port = free_port()
        stack = start_stack(env, app_port=port, emulator_port=None, workers=workers)
        cleanup.callback(stack.stop)
        seeded = run_seed(env, "accepted", str(args.n * args.repeat), "--prefix", "BENCH")
        log(f"webhook intake on {backend}: seeded {seeded['deliveries']} accepted deliveries")
        latencies, seconds = asyncio.run(
            get_all(f"{stack.app_url}/health", HEALTH_REQUESTS, args.concurrency)
        )
        health = {
            "requests": HEALTH_REQUESTS,
            "requests_per_second": HEALTH_REQUESTS / seconds,
            "latency_ms_median": 1000 * (median(latencies) or 0),
            "latency_ms_p95": 1000 * (percentile(latencies, 95) or 0),
        }
        log(f"  GET /health baseline: {health['requests_per_second']:.0f} req/s")
        runs = []
        try:
            for rep in range(args.repeat):
                runs.append(one_repetition(env, stack.app_url, seeded, rep, args))
        except Exception:
            sys.stderr.write(stack.logs())
            raise
        return {
            "processes": (
                "stadtbote run (web + embedded worker)"
                if not workers
                else f"stadtbote run --no-worker + {workers} x stadtbote worker"
            ),
            "database": "postgresql" if backend == "postgres" else "sqlite",
            "queue": "redis" if backend == "postgres" else "sqlite",
            "worker_threads_per_process": args.threads,
            "health_baseline": health,
            "median": summarise(runs),
            "runs": runs,
        }


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    results = {}
    for backend in backends:
        log(f"webhook intake: {backend}, n={args.n}, concurrency={args.concurrency}")
        results[backend] = run_backend(backend, args)
    ratios = {}
    if "sqlite" in results and "postgres" in results:
        s, p = results["sqlite"]["median"], results["postgres"]["median"]
        for key in ("requests_per_second", "apply_per_second", "latency_ms_p95"):
            if s.get(key) and p.get(key):
                ratios[f"postgres_vs_sqlite_{key}"] = p[key] / s[key]
    emit(
        {
            "benchmark": "webhook_intake",
            "what": "signed status webhooks: POST throughput/latency and time until applied",
            "machine": machine(),
            "n": args.n,
            "concurrency": args.concurrency,
            "repeat": args.repeat,
            "results": results,
            "ratios": ratios,
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
