"""Runs the benchmarks one after another with modest sizes and prints one JSON object with
all their results to stdout. Writes no files. Progress goes to stderr with --verbose; without
it a benchmark's stderr is shown only when it fails.

    .venv/bin/python bench/run_all.py [--verbose] [--only fanout,webhook_intake,dispatch,
                                      emulator_throughput,import_subscribers,
                                      status_apply,worker_memory,urgent_latency]
                                      [--scale 1.0]

`--scale` multiplies the sizes (e.g. 5 for a larger run; 1 takes about 6-8 minutes on two
cores). Each benchmark is bounded by a timeout.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import PYTHON, machine

HERE = Path(__file__).resolve().parent
TIMEOUT = 1800  # seconds per benchmark


def plan(scale: float) -> dict[str, list[str]]:
    def n(value: int) -> str:
        return str(max(1, round(value * scale)))

    return {
        "fanout": ["--sizes", f"{n(10_000)},{n(100_000)}", "--repeat", "3"],
        "webhook_intake": ["--n", n(1_500), "--concurrency", "32", "--repeat", "3"],
        "dispatch": ["--n", n(1_600), "--repeat", "3"],
        "emulator_throughput": ["--sends", n(20_000), "--rounds", "3"],
        "import_subscribers": ["--rows", n(20_000), "--repeat", "3"],
        "status_apply": ["--n", n(20_000), "--single-n", n(5_000), "--repeat", "3"],
        # A post to 200,000 at 1,000/s; docs/benchmarks.md has the million-recipient runs.
        "worker_memory": ["--n", n(200_000), "--rate", "1000", "--minutes", "1"],
        "urgent_latency": ["--n", n(200_000), "--rate", "1000", "--repeat", "3", "--settle", "10"],
    }


def run(name: str, args: list[str], verbose: bool) -> dict[str, Any]:
    command = [PYTHON, str(HERE / f"{name}.py"), *args]
    started = time.monotonic()
    try:
        result = subprocess.run(
            command,
            stdout=subprocess.PIPE,
            stderr=None if verbose else subprocess.PIPE,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {TIMEOUT} s", "arguments": args}
    seconds = time.monotonic() - started
    if result.returncode != 0:
        if not verbose and result.stderr:
            sys.stderr.write(result.stderr.decode(errors="replace")[-6000:])
        return {"error": f"exit status {result.returncode}", "arguments": args, "seconds": seconds}
    try:
        data = json.loads(result.stdout)
    except ValueError:
        return {"error": "no JSON on stdout", "arguments": args, "seconds": seconds}
    data["arguments"] = args
    data["wall_seconds"] = round(seconds, 1)
    return data


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="show progress on stderr")
    parser.add_argument("--only", default="", help="comma-separated subset")
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args(argv)
    todo = plan(args.scale)
    if args.only:
        wanted = {w.strip() for w in args.only.split(",")}
        todo = {k: v for k, v in todo.items() if k in wanted}
    started = time.monotonic()
    results = {}
    for name, arguments in todo.items():
        if args.verbose:
            print(f"== {name} {' '.join(arguments)}", file=sys.stderr, flush=True)
        results[name] = run(name, arguments, args.verbose)
    out = {
        "machine": machine(),
        "command": "bench/run_all.py " + " ".join(argv),
        "wall_seconds": round(time.monotonic() - started, 1),
        "benchmarks": results,
    }
    print(json.dumps(out, indent=2))
    return 0 if all("error" not in r for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
