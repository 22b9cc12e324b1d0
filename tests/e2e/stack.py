"""Starts the real app and the real emulator as separate processes talking HTTP.

Embedded (SQLite, `stadtbote run` with its worker) or scaled (PostgreSQL + Redis,
`stadtbote run --no-worker` plus any number of `stadtbote worker` processes). A test can kill -9
any of the processes and start it again, and read the app's database directly.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

STADTBOTE = [sys.executable, "-m", "stadtbote.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def request(
    method: str,
    url: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    *,
    timeout: float = 30,
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


def wait_until(
    check, *, timeout: float = 30, what: str = "condition", interval: float = 0.1
) -> Any:
    """Polls until `check()` returns something truthy; the timeout only bounds a hung test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Process:
    """One started process: how to start it again, and the URL that says it is up."""

    args: tuple[str, ...]
    popen: subprocess.Popen[bytes]
    health_url: str | None = None


@dataclass
class Stack:
    workdir: Path
    env: dict[str, str]
    app_url: str = ""
    emulator_url: str = ""
    processes: dict[str, Process] = field(default_factory=dict)

    def command(self, *args: str) -> str:
        result = subprocess.run(
            [*STADTBOTE, *args], env=self.env, cwd=self.workdir, capture_output=True, check=False
        )
        if result.returncode != 0:
            raise AssertionError(f"stadtbote {args[0]} failed:\n{result.stderr.decode()[-3000:]}")
        return result.stdout.decode()

    def start(self, name: str, *args: str, health_url: str | None = None) -> None:
        # Appended to, so a restarted process's log follows what it wrote before the kill.
        out = (self.workdir / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [*STADTBOTE, *args],
            env=self.env,
            cwd=self.workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a kill reaches its children too
        )
        out.close()  # the child has its own copy
        self.processes[name] = Process(args=args, popen=process, health_url=health_url)

    def kill(self, name: str) -> None:
        """kill -9: no cleanup, no goodbye, as a power cut or the OOM killer would."""
        process = self.processes[name].popen
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        with (self.workdir / f"{name}.log").open("ab") as out:
            out.write(b"\n--- killed with SIGKILL by the test ---\n")

    def restart(self, name: str) -> None:
        """Start a killed (or exited) process again with the same arguments, and wait until
        it answers if it has a health URL."""
        old = self.processes[name]
        if old.popen.poll() is None:
            raise AssertionError(f"{name} is still running; kill it first")
        self.start(name, *old.args, health_url=old.health_url)
        if old.health_url:
            self.wait_healthy(old.health_url)

    def pid(self, name: str) -> int:
        return self.processes[name].popen.pid

    @property
    def workers(self) -> list[str]:
        """The names of the separate worker processes (none when the worker is embedded)."""
        return [name for name in self.processes if name.startswith("worker")]

    def wait_healthy(self, url: str) -> None:
        def up() -> bool:
            for name, process in self.processes.items():
                code = process.popen.poll()
                if code is not None:
                    tail = self.log_of(name)[-6000:]
                    raise AssertionError(f"{name} exited early (exit code {code}):\n{tail}")
            try:
                return request("GET", url)[0] == 200
            except OSError:
                return False

        wait_until(up, timeout=120, what=url)

    def log_of(self, name: str) -> str:
        return (self.workdir / f"{name}.log").read_text(errors="replace")

    def logs(self) -> str:
        parts = []
        for name in self.processes:
            parts.append(f"--- {name} ---\n{self.log_of(name)[-4000:]}")
        return "\n".join(parts)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows from the app's database, read directly (`%s` placeholders on both backends)."""
        url = self.env.get("DATABASE_URL")
        if url:
            with psycopg.connect(url) as conn:
                return list(conn.execute(sql, params))
        path = self.workdir / "stadtbote.sqlite3"
        # Read-only and with a busy timeout: the app is writing at the same time (WAL).
        with contextlib.closing(
            sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        ) as conn:
            return list(conn.execute(sql.replace("%s", "?"), params))

    def stop(self) -> None:
        for process in self.processes.values():
            if process.popen.poll() is None:
                process.popen.terminate()
        for process in self.processes.values():
            try:
                process.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.popen.pid, signal.SIGKILL)
                process.popen.wait(timeout=15)


@dataclass(frozen=True)
class StackOptions:
    """What a test needs different from the default stack.

    `workers` counts the `stadtbote worker` processes in the scaled mode (the embedded mode has
    its worker inside `stadtbote run`). `env` is added to the environment of every process,
    the emulator's too (e.g. WHATSAPP_MESSAGES_PER_SECOND paces the app and limits the
    emulator alike). Without `webhooks` the emulator keeps its status webhooks to itself, which
    spares the app thousands of them where a test does not look at statuses."""

    workers: int = 2
    env: Mapping[str, str] = field(default_factory=dict)
    webhooks: bool = True


@contextlib.contextmanager
def running_stack(
    tmp: Path,
    *,
    scaled: bool,
    database_url: str | None,
    redis_url: str | None,
    options: StackOptions | None = None,
) -> Iterator[Stack]:
    options = options or StackOptions()
    app_port, emulator_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_SETTINGS"))}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.update(
        {
            "STADTBOTE_ENV_FILE": "",
            "STADTBOTE_DATA_DIR": str(tmp),
            "STADTBOTE_SECRET_KEY": secrets.token_urlsafe(32),
            "STADTBOTE_FIELD_KEY": secrets.token_urlsafe(32),
            "WHATSAPP_API_BASE_URL": f"http://127.0.0.1:{emulator_port}",
            "WHATSAPP_ACCESS_TOKEN": secrets.token_urlsafe(16),
            "WHATSAPP_APP_SECRET": secrets.token_hex(16),
            "WHATSAPP_VERIFY_TOKEN": secrets.token_urlsafe(8),
            "WHATSAPP_MESSAGES_PER_SECOND": "80",
            "STADTBOTE_WORKER_THREADS": "2",
            # Where the app really answers: links it hands out (Open311 media URLs) must work.
            "STADTBOTE_PUBLIC_URL": f"http://127.0.0.1:{app_port}",
        }
    )
    env.update(options.env)
    if database_url:
        env["DATABASE_URL"] = database_url
    if redis_url:
        env["REDIS_URL"] = redis_url
    stack = Stack(workdir=tmp, env=env)
    stack.app_url = f"http://127.0.0.1:{app_port}"
    stack.emulator_url = f"http://127.0.0.1:{emulator_port}"
    stack.command("migrate", "--no-input")
    app_health, emulator_health = (
        f"{stack.app_url}/health",
        f"{stack.emulator_url}/_emulator/health",
    )
    webhook = ["--webhook-url", f"{stack.app_url}/webhooks/whatsapp"] if options.webhooks else []
    try:
        stack.start(
            "emulator",
            "emulator",
            "--port",
            str(emulator_port),
            *webhook,
            health_url=emulator_health,
        )
        if scaled:
            stack.start("web", "run", "--port", str(app_port), "--no-worker", health_url=app_health)
            for n in range(options.workers):
                stack.start(f"worker{n}", "worker")
        else:
            stack.start("web", "run", "--port", str(app_port), health_url=app_health)
        stack.wait_healthy(emulator_health)
        stack.wait_healthy(app_health)
        yield stack
    finally:
        stack.stop()
        shutil.rmtree(tmp / "static", ignore_errors=True)
