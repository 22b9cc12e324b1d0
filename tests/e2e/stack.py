"""Starts the real app and the real emulator as separate processes talking HTTP."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STADTBOTE = [sys.executable, "-m", "stadtbote.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def request(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


def wait_until(check, *, timeout: float = 30, what: str = "condition") -> Any:
    """Polls until `check()` returns something truthy; the timeout only bounds a hung test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Stack:
    workdir: Path
    env: dict[str, str]
    app_url: str = ""
    emulator_url: str = ""
    processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def command(self, *args: str) -> str:
        result = subprocess.run(
            [*STADTBOTE, *args], env=self.env, cwd=self.workdir, capture_output=True, check=False
        )
        if result.returncode != 0:
            raise AssertionError(f"stadtbote {args[0]} failed:\n{result.stderr.decode()[-3000:]}")
        return result.stdout.decode()

    def start(self, name: str, *args: str) -> None:
        out = (self.workdir / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [*STADTBOTE, *args],
            env=self.env,
            cwd=self.workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        self.processes.append((name, process))

    def wait_healthy(self, url: str) -> None:
        def up() -> bool:
            for name, process in self.processes:
                if process.poll() is not None:
                    raise AssertionError(f"{name} exited early:\n{self.logs()}")
            try:
                return request("GET", url)[0] == 200
            except OSError:
                return False

        wait_until(up, timeout=60, what=url)

    def logs(self) -> str:
        parts = []
        for name, _ in self.processes:
            text = (self.workdir / f"{name}.log").read_text(errors="replace")
            parts.append(f"--- {name} ---\n{text[-4000:]}")
        return "\n".join(parts)

    def stop(self) -> None:
        for _, process in self.processes:
            process.terminate()
        for _, process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


@contextlib.contextmanager
def running_stack(
    tmp: Path, *, scaled: bool, database_url: str | None, redis_url: str | None
) -> Iterator[Stack]:
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
        }
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    if redis_url:
        env["REDIS_URL"] = redis_url
    stack = Stack(workdir=tmp, env=env)
    stack.app_url = f"http://127.0.0.1:{app_port}"
    stack.emulator_url = f"http://127.0.0.1:{emulator_port}"
    stack.command("migrate", "--no-input")
    try:
        stack.start(
            "emulator",
            "emulator",
            "--port",
            str(emulator_port),
            "--webhook-url",
            f"{stack.app_url}/webhooks/whatsapp",
        )
        if scaled:
            stack.start("web", "run", "--port", str(app_port), "--no-worker")
            for n in range(2):
                stack.start(f"worker{n}", "worker")
        else:
            stack.start("web", "run", "--port", str(app_port))
        stack.wait_healthy(f"{stack.emulator_url}/_emulator/health")
        stack.wait_healthy(f"{stack.app_url}/health")
        yield stack
    finally:
        stack.stop()
        shutil.rmtree(tmp / "static", ignore_errors=True)
