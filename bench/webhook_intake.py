"""Webhook intake: signed status webhooks posted to a running app by concurrent clients.

Measures, per repetition, (1) the intake: requests per second and the latency of
`POST /webhooks/whatsapp` (verify the signature, store the raw body, schedule the apply job),
with the CPU time every part of the machine spent meanwhile, and (2) the apply: the time from
the first POST until the worker has applied every stored body (channels_inboundwebhook rows in
state 'applied'), i.e. the apply throughput.

Each webhook is one distinct `sent` status for a delivery that exists (seeded as ACCEPTED),
so applying it records a StatusEvent and advances a real Delivery row; the benchmark checks
that every one of them reached SENT.

Backends: `sqlite` = `stadtbote run --web-processes W` (SQLite, the embedded worker); `postgres`
= PostgreSQL + Redis with `stadtbote run --no-worker --web-processes W` and `--workers`
`stadtbote worker` processes.

The load generator shares the machine's cores with the app, so it is kept cheap: `--clients`
processes, each an asyncio loop with its share of `--concurrency` keep-alive connections that
write pre-built, pre-signed HTTP/1.1 requests and read the answers with a minimal parser (one
request in flight per connection). Its CPU time is reported with the rest.

    .venv/bin/python bench/webhook_intake.py [--n 5000] [--concurrency 32] [--repeat 3]
        [--backends sqlite,postgres] [--web-processes 2] [--clients 2] [--workers 2]
        [--worker-nice 0] [--pause-apply]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import importlib.util
import json
import multiprocessing
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from common import (
    PYTHON,
    base_env,
    db_counter,
    emit,
    free_port,
    fresh_postgres,
    log,
    machine,
    median,
    percentile,
    queue_length,
    redis_flushed,
    run_seed,
    scratch_dir,
)

RUN_TIMEOUT = 600  # seconds: bounds one repetition (intake plus apply)
QUEUE_DRAIN_TIMEOUT = 120
STALL = 90  # seconds without progress in applying: give up on this repetition
CLIENT_TIMEOUT = 60  # seconds: one request, and the wait for the client processes
WEBHOOK_PATH = "/webhooks/whatsapp"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="webhooks per repetition")
    parser.add_argument("--concurrency", type=int, default=32, help="connections in all")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--web-processes", type=int, default=2)
    parser.add_argument("--clients", type=int, default=2, help="load generator processes")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (postgres)")
    parser.add_argument("--threads", type=int, default=2, help="STADTBOTE_WORKER_THREADS")
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=0,
        help="lower the priority of the threads that apply webhooks (worker processes, or the "
        "embedded worker) by this much; 0 leaves them as they are",
    )
    parser.add_argument(
        "--pause-apply",
        action="store_true",
        help="stop the worker processes (SIGSTOP) while the webhooks are posted and let them "
        "go on afterwards: the intake alone (postgres only; SQLite's embedded worker could be "
        "stopped holding the write lock)",
    )
    parser.add_argument("--health-requests", type=int, default=3000)
    parser.add_argument(
        "--floor-requests",
        type=int,
        default=10000,
        help="requests to an ASGI app that does nothing, under the same server; 0: skip",
    )
    parser.add_argument("--serve-floor", type=int, metavar="PORT", help=argparse.SUPPRESS)
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


def post_request(body: bytes, signature: str) -> bytes:
    """The whole HTTP/1.1 request as it goes on the wire, built before the clock starts."""
    head = (
        f"POST {WEBHOOK_PATH} HTTP/1.1\r\n"
        "Host: 127.0.0.1\r\n"
        "User-Agent: facebookexternalua\r\n"
        "Content-Type: application/json\r\n"
        f"X-Hub-Signature-256: {signature}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def get_request(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()


# --- the load generator: processes with keep-alive connections --------------------------------

CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)


class KeepAlive(asyncio.Protocol):
    """One connection, one request at a time; answers are read by Content-Length."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[int] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0 or self.waiter is None:
            return
        match = CONTENT_LENGTH.search(self.buffer, 0, end + 2)
        total = end + 4 + (int(match.group(1)) if match else 0)
        if len(self.buffer) < total:
            return
        status = int(self.buffer[9:12])
        del self.buffer[:total]
        waiter, self.waiter = self.waiter, None
        waiter.set_result(status)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("closed"))

    async def request(self, data: bytes) -> int:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return await asyncio.wait_for(self.waiter, CLIENT_TIMEOUT)


async def _load(
    port: int,
    requests: list[bytes],
    connections: int,
    ready: Any,
    go: Any,
    offsets: list[float] | None = None,
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()

    async def connect() -> KeepAlive:
        _, protocol = await loop.create_connection(KeepAlive, "127.0.0.1", port)
        return protocol

    pool = [await connect() for _ in range(connections)]
    ready.set()
    await loop.run_in_executor(None, go.wait, CLIENT_TIMEOUT)
    latencies: list[float] = []
    codes: dict[int, int] = {}
    next_index = 0

    async def client(conn: KeepAlive) -> None:
        nonlocal next_index
        while next_index < len(requests):
            index = next_index
            next_index += 1
            if offsets is not None:  # an open loop: not before its planned time
                delay = started + offsets[index] - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            data = requests[index]
            t0 = time.perf_counter()
            try:
                if conn.transport is None:  # closed by the server (e.g. after a 413)
                    conn = await connect()
                code = await conn.request(data)
            except (OSError, TimeoutError):
                code = -1
            latencies.append(time.perf_counter() - t0)
            codes[code] = codes.get(code, 0) + 1

    cpu0, started = time.process_time(), time.monotonic()
    await asyncio.gather(*(client(conn) for conn in pool))
    finished, cpu = time.monotonic(), time.process_time() - cpu0
    for conn in pool:
        if conn.transport is not None:
            conn.transport.close()
    return {
        "latencies": latencies,
        "codes": codes,
        "started": started,
        "finished": finished,
        "cpu_seconds": cpu,
    }


def _client_main(
    port: int,
    requests: list[bytes],
    connections: int,
    ready: Any,
    go: Any,
    out: Connection,
    offsets: list[float] | None = None,
) -> None:
    out.send(asyncio.run(_load(port, requests, connections, ready, go, offsets)))
    out.close()


def load(
    port: int,
    requests: list[bytes],
    concurrency: int,
    processes: int,
    before_go: Any = None,
    offsets: list[float] | None = None,
) -> dict[str, Any]:
    """Sends `requests` from `processes` client processes with `concurrency` connections in
    all; they connect first, then all start together. `before_go()` runs just before the
    start and its result is returned as `before`. With `offsets` (seconds after the start, one
    per request, ascending) each request is sent at its time or, if every connection is busy
    then, as soon as one is free: a paced burst instead of as fast as the server answers."""
    processes = max(1, min(processes, concurrency))
    spawn = multiprocessing.get_context("spawn")
    go = spawn.Event()
    children = []
    for i in range(processes):
        ready = spawn.Event()
        parent_end, child_end = spawn.Pipe(duplex=False)
        share = concurrency // processes + (1 if i < concurrency % processes else 0)
        child = spawn.Process(
            target=_client_main,
            args=(
                port,
                requests[i::processes],
                share,
                ready,
                go,
                child_end,
                None if offsets is None else offsets[i::processes],
            ),
            daemon=True,
        )
        child.start()
        child_end.close()
        children.append((child, ready, parent_end))
    for _, ready, _ in children:
        if not ready.wait(CLIENT_TIMEOUT):
            raise RuntimeError("a load generator process did not connect in time")
    before = before_go() if before_go is not None else None
    go.set()
    results = []
    for child, _, parent_end in children:
        if not parent_end.poll(RUN_TIMEOUT):
            raise RuntimeError("a load generator process did not finish in time")
        results.append(parent_end.recv())
        child.join(timeout=CLIENT_TIMEOUT)
    codes: dict[int, int] = {}
    for r in results:
        for code, count in r["codes"].items():
            codes[code] = codes.get(code, 0) + count
    return {
        "latencies": [x for r in results for x in r["latencies"]],
        "codes": codes,
        "started": min(r["started"] for r in results),
        "finished": max(r["finished"] for r in results),
        "cpu_seconds": sum(r["cpu_seconds"] for r in results),
        "before": before,
    }


def latency_ms(latencies: list[float]) -> dict[str, float]:
    return {
        "p50": 1000 * (median(latencies) or 0),
        "p95": 1000 * (percentile(latencies, 95) or 0),
        "p99": 1000 * (percentile(latencies, 99) or 0),
        "max": 1000 * max(latencies, default=0),
    }


# --- where the CPU time goes ----------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[str, int, float] | None:
    """(command name, parent pid, CPU seconds so far) of a process, from /proc."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    return name, int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy since boot (all cores, /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / CLOCK_TICKS


class CpuAccount:
    """CPU seconds per part between `start` and `stop`: the web processes (the `run` process and
    its children), the worker processes, this database's PostgreSQL backends, PostgreSQL's
    shared background processes (WAL writer, checkpointer, …), Redis, and the machine as a
    whole. Other users' processes (other databases on the same server too) are "other". A
    process that ends in between is not seen (its time counts as "other"); one that starts
    counts from zero."""

    def __init__(self, web_pid: int, worker_pids: list[int], backends: Any = None) -> None:
        self.web_pid, self.worker_pids = web_pid, worker_pids
        self._backends = backends  # () -> set of this database's backend pids, or None
        self._ours: set[int] = set()

    def _part(self, pid: int, name: str, ppid: int, cmdline: str) -> str | None:
        if pid == self.web_pid or ppid == self.web_pid:
            return "web"
        if pid in self.worker_pids:
            return "worker"
        if name == "postgres":
            if pid in self._ours:
                return "postgres"
            if "(" not in cmdline and "[local]" not in cmdline:  # no client: background
                return "postgres_background"
            return None  # a backend of another database: someone else's
        if name.startswith("redis-server"):
            return "redis"
        return None

    def _sample(self) -> dict[int, tuple[str, float]]:
        seconds = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit() and (stat := _stat(int(entry))) is not None:
                name, ppid, cpu = stat
                part = self._part(int(entry), name, ppid, _cmdline(int(entry), name))
                if part is not None:
                    seconds[int(entry)] = (part, cpu)
        return seconds

    def start(self) -> None:
        if self._backends is not None:
            self._ours = set(self._backends())
        self._before, self._machine_before = self._sample(), _machine_busy_seconds()

    def stop(self) -> dict[str, float]:
        if self._backends is not None:
            self._ours |= set(self._backends())
        after, machine = self._sample(), _machine_busy_seconds()
        spent = dict.fromkeys(["web", "worker", "postgres", "postgres_background", "redis"], 0.0)
        for pid, (part, cpu) in after.items():
            before = self._before.get(pid)
            spent[part] += cpu - (before[1] if before and before[0] == part else 0.0)
        spent["machine"] = machine - self._machine_before
        return spent


def _cmdline(pid: int, name: str) -> str:
    """PostgreSQL's processes name themselves: "postgres: 15/main: walwriter", and a backend
    "postgres: 15/main: user db 127.0.0.1(50312) idle"; only those are read."""
    if name != "postgres":
        return ""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def renice_threads(pid: int, increment: int) -> None:
    """Lower the priority of every thread of a process (Linux keeps a nice value per thread)."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        current = os.getpriority(os.PRIO_PROCESS, int(tid))
        os.setpriority(os.PRIO_PROCESS, int(tid), min(19, current + increment))


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
    env: dict[str, str],
    app: App,
    seeded: dict[str, Any],
    rep: int,
    args: argparse.Namespace,
) -> dict[str, Any]:
    n = args.n
    first = rep * n
    secret = env["WHATSAPP_APP_SECRET"]
    first_number = int(seeded["first_number"])
    requests = []
    for i in range(first, first + n):
        body = status_body(env, f"wamid.BENCH{i:08d}", str(first_number + i))
        requests.append(post_request(body, signed(secret, body)))

    counter = db_counter(env)
    applied_sql = "SELECT count(*) FROM channels_inboundwebhook WHERE state = 'applied'"
    before = int(counter.scalar(applied_sql))
    stored_before = int(counter.scalar("SELECT count(*) FROM channels_inboundwebhook"))
    sampler = Sampler(env, applied_sql)
    connections = None
    if env.get("DATABASE_URL"):
        connections = Sampler(
            env,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()",
            interval=0.5,
        )
    assert app.web is not None
    backends = None
    if env.get("DATABASE_URL"):

        def backends() -> list[int]:
            pids = counter.scalar(
                "SELECT string_agg(pid::text, ',') FROM pg_stat_activity "
                "WHERE datname = current_database()"
            )
            return [int(pid) for pid in (pids or "").split(",") if pid]

    cpu = CpuAccount(app.web.pid, [p.pid for p in app.workers], backends)

    def at_go() -> float:
        if args.pause_apply:
            app.pause_workers()
        sampler.start()
        if connections is not None:
            connections.start()
        cpu.start()
        return time.monotonic()

    try:
        loaded = load(app.port, requests, args.concurrency, args.clients, before_go=at_go)
        spent = cpu.stop()
    finally:
        if args.pause_apply:
            app.resume_workers()
    t0, t_intake = loaded["before"], loaded["finished"]
    intake_seconds = loaded["finished"] - loaded["started"]
    latencies, codes = loaded["latencies"], loaded["codes"]
    load_average = os.getloadavg()[0]
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
    drained_at = wait_for(lambda: queue_length(env) == 0, QUEUE_DRAIN_TIMEOUT)
    ok = codes.get(200, 0)
    apply_seconds = None if done_at is None else done_at - t0
    spent["load_generator"] = loaded["cpu_seconds"]
    spent["other"] = spent["machine"] - sum(v for k, v in spent.items() if k != "machine")
    lat = latency_ms(latencies)
    result = {
        "webhooks": n,
        "http_200": ok,
        "stored": stored,
        "http_other": {str(k): v for k, v in codes.items() if k != 200},
        "intake_seconds": intake_seconds,
        "requests_per_second": ok / intake_seconds,
        "responses_per_second": len(latencies) / intake_seconds,
        "latency_ms_median": lat["p50"],
        "latency_ms_p95": lat["p95"],
        "latency_ms_p99": lat["p99"],
        "latency_ms_max": lat["max"],
        # CPU seconds per second of intake, i.e. cores busy; the machine has os.cpu_count().
        "cores_during_intake": {k: v / intake_seconds for k, v in spent.items()},
        # The same per answered webhook: what each part costs, whoever else uses the machine.
        "cpu_ms_per_request": {k: 1000 * v / max(1, len(latencies)) for k, v in spent.items()},
        "load_average_1min_after_intake": load_average,
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
    cores = result["cores_during_intake"]
    log(
        f"  rep {rep}: {result['requests_per_second']:.0f} req/s, "
        f"p50 {lat['p50']:.1f} ms, p95 {lat['p95']:.1f} ms, p99 {lat['p99']:.1f} ms; cores: "
        + ", ".join(f"{k} {v:.2f}" for k, v in cores.items())
        + f"; all applied after {apply_seconds if apply_seconds is None else round(apply_seconds, 1)} s"
    )
    return result


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = [
        "requests_per_second",
        "latency_ms_median",
        "latency_ms_p95",
        "latency_ms_p99",
        "intake_seconds",
        "load_average_1min_after_intake",
        "first_applied_after_seconds",
        "all_applied_after_seconds",
        "apply_per_second",
        "drain_after_intake_per_second",
        "apply_jobs_still_queued_when_all_applied",
        "seconds_to_drain_leftover_jobs",
    ]
    out: dict[str, Any] = {}
    for key in keys:
        values = [r[key] for r in runs if r.get(key) is not None]
        out[key] = median(values)
    for breakdown in ("cores_during_intake", "cpu_ms_per_request"):
        out[breakdown] = {
            part: median([r[breakdown][part] for r in runs]) for part in runs[0][breakdown]
        }
    out["complete"] = all(
        r["http_200"] == r["webhooks"] == r["deliveries_advanced_to_sent"]
        and r["all_applied_after_seconds"] is not None
        and r["malformed_or_failed"] == 0
        for r in runs
    )
    return out


class App:
    """The app's processes, started here rather than with the end-to-end test's Stack so that
    the web processes' options and the process ids (for the CPU account) are this script's."""

    def __init__(self, env: dict[str, str], port: int) -> None:
        self.env, self.port = env, port
        self.workdir = Path(env["STADTBOTE_DATA_DIR"])
        self.url = f"http://127.0.0.1:{port}"
        self.web: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []

    def _popen(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        with (self.workdir / f"{name}.log").open("wb") as out:
            return subprocess.Popen(
                [PYTHON, "-m", "stadtbote.cli", *args],
                env=self.env,
                cwd=self.workdir,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def start(self, web_processes: int, workers: int) -> None:
        """Migrate, then the web process(es) (`--no-worker` when there are worker processes),
        then the workers; returns when every web process serves."""
        subprocess.run(
            [PYTHON, "-m", "stadtbote.cli", "migrate", "--no-input"],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            check=True,
            timeout=300,
        )
        web = ["run", "--port", str(self.port), "--web-processes", str(web_processes)]
        self.web = self._popen("web", *web, *(["--no-worker"] if workers else []))
        self.workers = [self._popen(f"worker{n}", "worker") for n in range(workers)]

        def serving() -> bool:
            for process in [self.web, *self.workers]:
                if process is not None and process.poll() is not None:
                    raise RuntimeError(f"the app exited early:\n{self.logs()}")
            # uvicorn logs this line once per serving process.
            return self.log("web").count("Started server process") >= web_processes

        if wait_for(serving, timeout=120) is None:
            raise RuntimeError(f"the app did not start:\n{self.logs()}")

    def pause_workers(self) -> None:
        for process in self.workers:
            process.send_signal(signal.SIGSTOP)

    def resume_workers(self) -> None:
        for process in self.workers:
            process.send_signal(signal.SIGCONT)

    def log(self, name: str) -> str:
        return (self.workdir / f"{name}.log").read_text(errors="replace")

    def logs(self) -> str:
        names = ["web", *(f"worker{n}" for n in range(len(self.workers)))]
        return "\n".join(f"--- {name} ---\n{self.log(name)[-4000:]}" for name in names)

    def stop(self) -> None:
        processes = [p for p in [self.web, *self.workers] if p is not None]
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)


def deprioritise_apply(app: App, args: argparse.Namespace) -> str:
    if not args.worker_nice:
        return "as started"
    if app.workers:
        for process in app.workers:
            renice_threads(process.pid, args.worker_nice)
        return f"worker processes niced by {args.worker_nice}"
    if args.web_processes > 1:
        # The embedded worker runs in the supervising process, which serves no requests.
        assert app.web is not None
        renice_threads(app.web.pid, args.worker_nice)
        return f"embedded worker (supervising process) niced by {args.worker_nice}"
    return "as started (the embedded worker shares the only web process)"


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    with contextlib.ExitStack() as cleanup:
        data = cleanup.enter_context(scratch_dir(f"intake-{backend}"))
        env = base_env(data, STADTBOTE_WORKER_THREADS=str(args.threads))
        workers = 0
        if backend == "postgres":
            env["DATABASE_URL"] = cleanup.enter_context(fresh_postgres("intake"))
            env["REDIS_URL"] = cleanup.enter_context(redis_flushed())
            workers = args.workers
        app = App(env, free_port())
        cleanup.callback(app.stop)
        app.start(args.web_processes, workers)
        priority = deprioritise_apply(app, args)
        seeded = run_seed(env, "accepted", str(args.n * args.repeat), "--prefix", "BENCH")
        log(f"webhook intake on {backend}: seeded {seeded['deliveries']} accepted deliveries")
        health_load = load(
            app.port,
            [get_request("/health")] * args.health_requests,
            args.concurrency,
            args.clients,
        )
        health_seconds = health_load["finished"] - health_load["started"]
        health = {
            "requests": args.health_requests,
            "http_200": health_load["codes"].get(200, 0),
            "requests_per_second": args.health_requests / health_seconds,
            "latency_ms": latency_ms(health_load["latencies"]),
            "load_generator_cores": health_load["cpu_seconds"] / health_seconds,
        }
        log(f"  GET /health baseline (Django): {health['requests_per_second']:.0f} req/s")
        runs = []
        try:
            for rep in range(args.repeat):
                runs.append(one_repetition(env, app, seeded, rep, args))
        except Exception:
            sys.stderr.write(app.logs())
            raise
        return {
            "processes": (
                f"stadtbote run --web-processes {args.web_processes} (+ embedded worker)"
                if not workers
                else f"stadtbote run --no-worker --web-processes {args.web_processes}"
                f" + {workers} x stadtbote worker"
            ),
            "database": "postgresql" if backend == "postgres" else "sqlite",
            "queue": "redis" if backend == "postgres" else "sqlite",
            "worker_threads_per_process": args.threads,
            "apply_priority": priority,
            "apply_paused_during_intake": bool(args.pause_apply and workers),
            "health_baseline": health,
            "median": summarise(runs),
            "runs": runs,
        }


# --- the floor: the same server with an app that does nothing --------------------------------


async def floor_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the request and answers 200 "ok": what uvicorn (its HTTP parser, see
    `http_parser`) and asyncio cost alone."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"2")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"ok"})


def serve_floor(port: int, processes: int) -> None:
    """Runs floor_app the way `stadtbote run --web-processes` runs the app: several processes
    share a socket made with protocol TCP (see `listening_socket` in the `run` command; that
    module needs Django set up, this server does not)."""
    config = uvicorn.Config(
        "webhook_intake:floor_app",  # the children find it: this script's folder is on sys.path
        host="127.0.0.1",
        port=port,
        lifespan="off",
        access_log=False,
        log_level="warning",
        workers=processes,
    )
    if processes > 1:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.set_inheritable(True)
        Multiprocess(config, sockets=[sock]).run()
    else:
        uvicorn.Server(config).run()


def http_parser() -> str:
    """The HTTP/1.1 implementation uvicorn picks by itself (`http="auto"`, as the app's `run`):
    the C parser httptools when it is installed, else the pure-Python h11."""
    return "httptools" if importlib.util.find_spec("httptools") else "h11"


def measure_floor(args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    server = subprocess.Popen(
        [PYTHON, __file__, "--serve-floor", str(port), "--web-processes", str(args.web_processes)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        body = b'{"object":"whatsapp_business_account"}' * 25  # about the size of a status
        request = post_request(body, signed("floor", body))

        def up() -> bool:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                return True
            return False

        if wait_for(up, timeout=60, interval=0.2) is None:
            raise RuntimeError("the floor server did not start")
        time.sleep(1)  # every process up
        loaded = load(port, [request] * args.floor_requests, args.concurrency, args.clients)
    finally:
        server.terminate()
        server.wait(timeout=15)
    seconds = loaded["finished"] - loaded["started"]
    return {
        "what": f"uvicorn ({http_parser()}) with an ASGI app that reads the body and answers ok",
        "requests": args.floor_requests,
        "http_200": loaded["codes"].get(200, 0),
        "requests_per_second": args.floor_requests / seconds,
        "latency_ms": latency_ms(loaded["latencies"]),
        "load_generator_cores": loaded["cpu_seconds"] / seconds,
        "load_average_1min": os.getloadavg()[0],
    }


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.serve_floor:
        serve_floor(args.serve_floor, args.web_processes)
        return 0
    floor = None
    if args.floor_requests:
        floor = measure_floor(args)
        log(f"floor (an app that does nothing): {floor['requests_per_second']:.0f} req/s")
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    results = {}
    for backend in backends:
        log(
            f"webhook intake: {backend}, n={args.n}, concurrency={args.concurrency}, "
            f"web processes={args.web_processes}, client processes={args.clients}"
        )
        results[backend] = run_backend(backend, args)
    ratios = {}
    if "sqlite" in results and "postgres" in results:
        s, p = results["sqlite"]["median"], results["postgres"]["median"]
        for key in ("requests_per_second", "apply_per_second", "latency_ms_p99"):
            if s.get(key) and p.get(key):
                ratios[f"postgres_vs_sqlite_{key}"] = p[key] / s[key]
    emit(
        {
            "benchmark": "webhook_intake",
            "what": "signed status webhooks: POST throughput/latency and time until applied",
            "machine": machine(),
            "n": args.n,
            "concurrency": args.concurrency,
            "client_processes": args.clients,
            "web_processes": args.web_processes,
            "repeat": args.repeat,
            "server_floor": floor,
            "results": results,
            "ratios": ratios,
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
