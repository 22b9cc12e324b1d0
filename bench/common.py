"""Shared pieces of the benchmarks: environments, fresh databases, the app and emulator as
separate processes (the end-to-end test's Stack), database counters and statistics.

Everything talks to 127.0.0.1 only. Every wait is bounded in time.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.stack import Stack, free_port, request, wait_until  # noqa: E402

__all__ = [
    "PYTHON",
    "ROOT",
    "Stack",
    "Staff",
    "api",
    "base_env",
    "db_counter",
    "emit",
    "free_port",
    "fresh_postgres",
    "machine",
    "median",
    "percentile",
    "process_pids",
    "process_stat",
    "queue_length",
    "redis_flushed",
    "request",
    "run_seed",
    "scratch_dir",
    "start_stack",
    "wait_until",
]

PYTHON = sys.executable
POSTGRES_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
REDIS_URL = os.environ.get("STADTBOTE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
PHONE_NUMBER_ID = "100000000000001"
BUSINESS_ACCOUNT_ID = "200000000000001"


def base_env(data_dir: Path, *, emulator_port: int | None = None, **extra: str) -> dict[str, str]:
    """The environment of the app, its workers and the emulator: the same WHATSAPP_* on both
    sides, no .env file, nothing inherited that points elsewhere."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("STADTBOTE_", "WHATSAPP_", "EMULATOR_", "DJANGO_", "PYTEST"))
        and k not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(
        {
            "STADTBOTE_ENV_FILE": "",
            "STADTBOTE_DATA_DIR": str(data_dir),
            "STADTBOTE_SECRET_KEY": secrets.token_urlsafe(32),
            "STADTBOTE_FIELD_KEY": secrets.token_urlsafe(32),
            "STADTBOTE_LOG_LEVEL": "INFO",
            "WHATSAPP_API_BASE_URL": f"http://127.0.0.1:{emulator_port or 9}",
            "WHATSAPP_API_VERSION": "v23.0",
            "WHATSAPP_ACCESS_TOKEN": secrets.token_urlsafe(16),
            "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
            "WHATSAPP_BUSINESS_ACCOUNT_ID": BUSINESS_ACCOUNT_ID,
            "WHATSAPP_APP_SECRET": secrets.token_hex(16),
            "WHATSAPP_VERIFY_TOKEN": secrets.token_urlsafe(8),
            "WHATSAPP_MESSAGES_PER_SECOND": "80",
            "STADTBOTE_WORKER_THREADS": "2",
            # Throughput is measured: the quiet hours, the daily cap and Meta's daily limit of
            # unique users would hold posts depending on the hour and the day.
            "STADTBOTE_QUIET_HOURS_START": "00:00",
            "STADTBOTE_QUIET_HOURS_END": "00:00",
            "STADTBOTE_DAILY_CAP": "0",
            "WHATSAPP_DAILY_UNIQUE_USERS": "0",
        }
    )
    env.update(extra)
    return env


@contextlib.contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"stadtbote-bench-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def fresh_postgres(label: str) -> Iterator[str]:
    """A new, empty database for one run, dropped afterwards."""
    import psycopg

    name = f"stadtbote_bench_{label}_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def redis_flushed(url: str = REDIS_URL) -> Iterator[str]:
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


class DbCounter:
    """Read-only counting queries against the app's database from outside the app."""

    def __init__(self, env: dict[str, str]) -> None:
        url = env.get("DATABASE_URL")
        self._pg: Any = None
        self._sqlite: sqlite3.Connection | None = None
        if url:
            import psycopg

            self._pg = psycopg.connect(url, autocommit=True)
        else:
            path = Path(env["STADTBOTE_DATA_DIR"]) / "stadtbote.sqlite3"
            self._sqlite = sqlite3.connect(path, timeout=30, isolation_level=None)

    def row(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        """One row of a query written with `?` placeholders."""
        if self._pg is not None:
            return self._pg.execute(sql.replace("?", "%s"), params).fetchone()
        assert self._sqlite is not None
        return self._sqlite.execute(sql, params).fetchone()

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.row(sql, params)
        return row[0] if row else None

    def close(self) -> None:
        if self._pg is not None:
            self._pg.close()
        if self._sqlite is not None:
            self._sqlite.close()


def db_counter(env: dict[str, str]) -> DbCounter:
    return DbCounter(env)


def run_seed(env: dict[str, str], *args: str, timeout: float = 600) -> dict[str, Any]:
    """Run bench/seed.py in the app's environment (same database, same field key)."""
    result = subprocess.run(
        [PYTHON, str(ROOT / "bench" / "seed.py"), *args],
        env=env,
        cwd=env["STADTBOTE_DATA_DIR"],
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"seed {args} failed:\n{result.stderr.decode()[-3000:]}")
    return json.loads(result.stdout.decode().strip().splitlines()[-1])


def start_stack(
    env: dict[str, str],
    *,
    app_port: int,
    emulator_port: int | None,
    workers: int = 0,
    webhooks: bool = True,
) -> Stack:
    """Migrate, then start the emulator (if a port is given; without `webhooks` it sends the
    app none), the web process (embedded worker when `workers` is 0, else `--no-worker` plus
    that many `stadtbote worker` processes)."""
    stack = Stack(workdir=Path(env["STADTBOTE_DATA_DIR"]), env=env)
    stack.app_url = f"http://127.0.0.1:{app_port}"
    stack.command("migrate", "--no-input")
    try:
        if emulator_port is not None:
            stack.emulator_url = f"http://127.0.0.1:{emulator_port}"
            hook = ["--webhook-url", f"{stack.app_url}/webhooks/whatsapp"] if webhooks else []
            stack.start("emulator", "emulator", "--port", str(emulator_port), *hook)
        if workers:
            stack.start("web", "run", "--port", str(app_port), "--no-worker")
            for n in range(workers):
                stack.start(f"worker{n}", "worker")
        else:
            stack.start("web", "run", "--port", str(app_port))
        if emulator_port is not None:
            stack.wait_healthy(f"{stack.emulator_url}/_emulator/health")
        stack.wait_healthy(f"{stack.app_url}/health")
    except BaseException:
        stack.stop()
        raise
    return stack


@dataclass(frozen=True)
class Staff:
    """One staff account's way into the REST API."""

    app_url: str
    token: str


def api(
    who: Staff, method: str, path: str, body: Any = None, *, timeout: float = 30
) -> tuple[int, Any]:
    """A REST API call. Approving a post fans it out in the request: on PostgreSQL a million
    recipients take longer than the usual 30 s, so the timeout can be raised."""
    return request(
        method,
        f"{who.app_url}/api/v1{path}",
        body,
        {"Authorization": f"Bearer {who.token}"},
        timeout=timeout,
    )


def process_pids(stack: Stack) -> dict[str, int]:
    """The started processes' pids by name ("web", "worker0", "emulator", …)."""
    processes: Any = stack.processes
    if isinstance(processes, dict):
        return {name: p.popen.pid for name, p in processes.items()}
    return {name: popen.pid for name, popen in processes}


def process_stat(pid: int) -> tuple[float, int] | None:
    """(CPU seconds so far, resident memory in KiB) of a process, from /proc; None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    rss = next(
        (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0
    )
    return cpu, rss


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


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def machine() -> dict[str, Any]:
    """Where and on what the numbers were taken; the load average shows a busy machine."""
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": time.strftime("%Y-%m-%d"),
        "loadavg_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "revision": revision(),
    }


def revision() -> str:
    """The checked-out commit, with `+dirty` when the working tree has changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def rounded(value: Any, digits: int = 3) -> Any:
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v, digits) for v in value]
    return value


def emit(result: dict[str, Any]) -> None:
    print(json.dumps(rounded(result), indent=2, sort_keys=False))
    sys.stdout.flush()


def log(message: str) -> None:
    """Progress goes to stderr so stdout stays one JSON object."""
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())}] {message}", file=sys.stderr, flush=True)
