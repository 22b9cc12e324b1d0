"""Worker memory while a post to a million subscribers is being sent: peak and trend.

A post to `--n` subscribers is approved (see bench/big_post.py) and, for `--minutes`, the
resident memory (RSS, /proc) of the processes that send is sampled every `--interval` seconds:
the `stadtbote run` process with its embedded worker on SQLite, each `stadtbote worker`
process on PostgreSQL + Redis. The emulator's memory is sampled too, for information. The
post is not sent to the end: minutes of sending show whether memory stays flat or grows, and
the memory a dispatcher holds does not depend on how many deliveries are still waiting.

Reported per process: every sample, the peak, the mean of the first and of the last minute
(after a warm-up of `--warmup` seconds) and the slope of a straight line through the samples
after the warm-up (MB per minute).

    .venv/bin/python bench/worker_memory.py [--backends sqlite,postgres] [--n 1000000]
                                            [--rate 1000] [--minutes 5] [--interval 5]
                                            [--analyze]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from big_post import big_post
from common import emit, log, machine, process_pids, process_stat


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--n", type=int, default=1_000_000, help="recipients of the post")
    parser.add_argument("--rate", type=int, default=1000, help="messages per second (0: off)")
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--warmup", type=float, default=30.0, help="seconds left out of trends")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (postgres)")
    parser.add_argument("--webhook-batch", type=int, default=1, help="statuses per webhook")
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="PostgreSQL: ANALYZE the deliveries after the approval (as autovacuum would)",
    )
    return parser.parse_args(argv)


def slope_per_minute(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, MB) points, in MB per minute."""
    if len(points) < 2:
        return None
    mean_t = sum(t for t, _ in points) / len(points)
    mean_m = sum(m for _, m in points) / len(points)
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    if not spread:
        return None
    return 60 * sum((t - mean_t) * (m - mean_m) for t, m in points) / spread


def summary(samples: list[tuple[float, float]], warmup: float) -> dict[str, Any]:
    settled = [(t, m) for t, m in samples if t >= warmup]
    first = [m for t, m in settled if t < warmup + 60]
    last_start = settled[-1][0] - 60 if settled else 0
    last = [m for t, m in settled if t >= last_start]
    return {
        "peak_mb": max((m for _, m in samples), default=None),
        "first_minute_mean_mb": sum(first) / len(first) if first else None,
        "last_minute_mean_mb": sum(last) / len(last) if last else None,
        "slope_mb_per_minute": slope_per_minute(settled),
        "samples": [[round(t, 1), round(m, 1)] for t, m in samples],
    }


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    with big_post(
        backend,
        n=args.n,
        rate=args.rate,
        workers=args.workers,
        webhook_batch=args.webhook_batch,
        analyze=args.analyze,
    ) as post:
        watched = {**post.worker_pids, "emulator": process_pids(post.stack)["emulator"]}
        memory: dict[str, list[tuple[float, float]]] = {name: [] for name in watched}
        progress: list[tuple[float, int]] = []
        end = post.approved_at + args.minutes * 60
        next_count = 0.0
        while time.monotonic() < end:
            at = time.monotonic() - post.approved_at
            for name, pid in watched.items():
                stat = process_stat(pid)
                if stat is not None:
                    memory[name].append((at, stat[1] / 1024))
            if at >= next_count:  # counting a million rows costs the database; not too often
                progress.append((at, post.accepted()))
                next_count = at + 30
            time.sleep(max(0.0, args.interval - (time.monotonic() - post.approved_at - at)))
        progress.append((time.monotonic() - post.approved_at, post.accepted()))
        loadavg = [round(x, 2) for x in os.getloadavg()]
    result = {
        "processes": {name: summary(samples, args.warmup) for name, samples in memory.items()},
        "accepted_over_time": [[round(t, 1), count] for t, count in progress],
        "accepted_per_second": (progress[-1][1] - progress[0][1])
        / (progress[-1][0] - progress[0][0])
        if len(progress) > 1
        else None,
        "loadavg_1_5_15_at_end": loadavg,
    }
    workers_peak = max(
        (p["peak_mb"] or 0 for name, p in result["processes"].items() if name != "emulator"),
        default=None,
    )
    result["worker_peak_mb"] = workers_peak
    log(
        f"memory {backend}: worker peak {workers_peak:.0f} MB, slopes "
        + ", ".join(
            f"{name} {p['slope_mb_per_minute']:.2f} MB/min"
            for name, p in result["processes"].items()
            if p["slope_mb_per_minute"] is not None
        )
        + f", {result['accepted_per_second']} accepted/s, load {loadavg}"
    )
    return result


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    results = {backend: run_backend(backend, args) for backend in backends}
    emit(
        {
            "benchmark": "worker_memory",
            "what": "RSS of the sending processes while a post to --n subscribers goes out",
            "machine": machine(),
            "n": args.n,
            "rate": args.rate,
            "minutes": args.minutes,
            "interval_seconds": args.interval,
            "analyze_after_approval": args.analyze,
            "results": results,
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
