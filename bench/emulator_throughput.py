"""Emulator throughput: how many valid text sends per second the WhatsApp emulator accepts.

The emulator runs under uvicorn in its own process (all policy limits off, no throughput
limit, no webhook URL unless ``--sink`` starts a local receiver that answers 200 to every
webhook); this process fires ``--sends`` valid text sends with aiohttp at ``--concurrency``
and prints one JSON object: sends/s (median of ``--rounds``), p50/p95/p99 latency of the
median round, and every round's figures. Everything talks to 127.0.0.1 only.

    .venv/bin/python bench/emulator_throughput.py [--sends 20000] [--concurrency 64]
                                                  [--rounds 3] [--sink] [--access-log]
                                                  [--lean] [--src OTHER_TREE/src]

Besides sends/s (wall clock, what the client saw) it reports the server's CPU time per send,
read from /proc: on a shared machine the wall clock also measures the neighbours, while the
CPU time bounds what the single-process server can do on one free core.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"

ACCESS_TOKEN = "bench-access-token"
PHONE_NUMBER_ID = "100000000000001"
# Every limit the emulator models is switched off: this measures the request path itself.
SERVER_ENV = {
    "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
    "WHATSAPP_APP_SECRET": "bench-app-secret",
    "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
    "WHATSAPP_BUSINESS_ACCOUNT_ID": "200000000000001",
    "WHATSAPP_VERIFY_TOKEN": "bench-verify-token",
    "WHATSAPP_MESSAGES_PER_SECOND": "0",
    "EMULATOR_SERVICE_WINDOW": "0",
    "EMULATOR_PAIR_RATE_BURST": "0",
    "EMULATOR_MESSAGING_LIMIT": "0",
    "EMULATOR_MARKETING_CAP": "0",
}
RECIPIENTS = 1000
START_TIMEOUT = 30.0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=20_000, help="sends per round")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=2_000, help="untimed sends first")
    parser.add_argument(
        "--sink", action="store_true", help="deliver webhooks to a local receiver (200 always)"
    )
    parser.add_argument("--access-log", action="store_true", help="keep uvicorn's access log")
    parser.add_argument(
        "--lean",
        action="store_true",
        help="uvicorn without proxy-header handling and Server/Date headers",
    )
    parser.add_argument(
        "--src", default=str(SRC), help="the source tree to import the emulator from (to compare)"
    )
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--sink-serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# --- the server processes ----------------------------------------------------------------------


def serve_emulator(port: int, access_log: bool, lean: bool) -> None:
    import uvicorn

    from whatsapp_emulator.app import create_app
    from whatsapp_emulator.config import EmulatorConfig

    config = EmulatorConfig.from_env(os.environ)
    uvicorn.run(
        create_app(config),
        host="127.0.0.1",
        port=port,
        access_log=access_log,
        log_level="info" if access_log else "warning",
        proxy_headers=not lean,
        server_header=not lean,
        date_header=not lean,
    )


def serve_sink(port: int) -> None:
    from aiohttp import web

    async def ok(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/webhook", ok)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {START_TIMEOUT} s")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def child(args: list[str], env: dict[str, str], port: int) -> Iterator[int]:
    process = subprocess.Popen([sys.executable, __file__, *args], env=env)
    try:
        wait_for_port(port, process)
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# --- the load ----------------------------------------------------------------------------------


async def fire(base: str, sends: int, concurrency: int) -> dict[str, Any]:
    import aiohttp

    url = f"{base}/v23.0/{PHONE_NUMBER_ID}/messages"
    headers = {"Authorization": f"Bearer {ACCESS_TOKEN}", "Content-Type": "application/json"}
    bodies = [
        json.dumps(
            {
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": f"49170{n:07d}",
                "type": "text",
                "text": {"body": f"Neuigkeiten aus dem Rathaus Nr. {n}", "preview_url": False},
            }
        ).encode()
        for n in range(RECIPIENTS)
    ]
    latencies: list[float] = []
    failures: dict[str, int] = {}
    counter = iter(range(sends))
    connector = aiohttp.TCPConnector(limit=concurrency)

    async def worker(session: aiohttp.ClientSession) -> None:
        for n in counter:
            started = time.perf_counter()
            async with session.post(url, data=bodies[n % RECIPIENTS], headers=headers) as answer:
                await answer.read()
                status = answer.status
            latencies.append(time.perf_counter() - started)
            if status != 200:
                failures[str(status)] = failures.get(str(status), 0) + 1

    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "sends": sends,
        "seconds": round(elapsed, 3),
        "sends_per_second": round(sends / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50) * 1000, 2),
        "p95_ms": round(percentile(latencies, 95) * 1000, 2),
        "p99_ms": round(percentile(latencies, 99) * 1000, 2),
        "failures": failures,
    }


async def drain(base: str, limit: float = 300.0) -> float:
    """Seconds until every queued webhook is delivered (polling the emulator)."""
    import aiohttp

    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        while time.perf_counter() - started < limit:
            async with session.get(f"{base}/_emulator/webhooks/pending") as answer:
                if (await answer.json())["pending"] == 0:
                    break
            await asyncio.sleep(0.05)
    return time.perf_counter() - started


async def reset(base: str) -> None:
    import aiohttp

    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{base}/_emulator/reset") as answer,
    ):
        answer.raise_for_status()


def percentile(ordered: list[float], pct: float) -> float:
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def run(args: argparse.Namespace) -> dict[str, Any]:
    env = {**os.environ, **SERVER_ENV, "PYTHONPATH": args.src}
    env.pop("EMULATOR_WEBHOOK_URL", None)
    port = free_port()
    with contextlib.ExitStack() as stack:
        if args.sink:
            sink_port = free_port()
            stack.enter_context(child(["--sink-serve", str(sink_port)], env, sink_port))
            env["EMULATOR_WEBHOOK_URL"] = f"http://127.0.0.1:{sink_port}/webhook"
        server_args = ["--serve", str(port)]
        server_args += ["--access-log"] if args.access_log else []
        server_args += ["--lean"] if args.lean else []
        pid = stack.enter_context(child(server_args, env, port))
        base = f"http://127.0.0.1:{port}"
        asyncio.run(fire(base, args.warmup, args.concurrency))
        rounds = []
        for _ in range(args.rounds):
            asyncio.run(reset(base))
            cpu_before = cpu_seconds(pid)
            result = asyncio.run(fire(base, args.sends, args.concurrency))
            # Status timers still running after the last answer belong to this round too, and
            # so do the webhooks still queued for the sink.
            time.sleep(0.5)
            if args.sink:
                result["webhooks_drained_after_s"] = round(asyncio.run(drain(base)) + 0.5, 2)
            cpu = cpu_seconds(pid) - cpu_before
            # The server is one process on one core: its CPU time per send bounds its rate
            # however busy the rest of the machine is.
            result["server_cpu_us_per_send"] = round(cpu / args.sends * 1e6, 1)
            result["server_bound_sends_per_second"] = round(args.sends / cpu, 1) if cpu else None
            rounds.append(result)
    ordered = sorted(rounds, key=lambda result: result["sends_per_second"])
    median = ordered[len(ordered) // 2]
    return {
        "benchmark": "emulator_throughput",
        "sends_per_round": args.sends,
        "concurrency": args.concurrency,
        "webhooks": "local sink (200)" if args.sink else "none (no webhook URL)",
        "access_log": args.access_log,
        "lean_uvicorn": args.lean,
        "sends_per_second": statistics.median(r["sends_per_second"] for r in rounds),
        "p50_ms": median["p50_ms"],
        "p95_ms": median["p95_ms"],
        "p99_ms": median["p99_ms"],
        "server_cpu_us_per_send": statistics.median(r["server_cpu_us_per_send"] for r in rounds),
        "load_average": os.getloadavg()[0],
        "rounds": rounds,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
    }


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.serve is not None:
        serve_emulator(args.serve, args.access_log, args.lean)
        return 0
    if args.sink_serve is not None:
        serve_sink(args.sink_serve)
        return 0
    print(json.dumps(run(args), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
