"""How long `stadtbote import_subscribers` takes for a provider export of N rows.

Generates a CSV with N valid German mobile numbers (plus 1 % bad rows), imports it into a fresh
SQLite database and a fresh PostgreSQL database, three times each (a fresh database per run),
and reports the median wall time and rows/s. The second import of the same file (idempotence)
is timed too.

    .venv/bin/python bench/import_subscribers.py --rows 100000
"""

from __future__ import annotations

import argparse
import random
import subprocess
import time
from pathlib import Path

from common import PYTHON, base_env, emit, fresh_postgres, log, machine, median, scratch_dir

HEADER = "phone,consented_at,consent_source,topics,districts,language\n"


def write_csv(path: Path, rows: int) -> None:
    rng = random.Random(7)
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        for n in range(rows):
            if n % 100 == 99:
                out.write("12345,2025-03-01,Export,,,\n")  # a bad row
                continue
            prefix = rng.choice(["151", "160", "170", "171", "172", "175", "176", "179"])
            out.write(f"+49 {prefix} {n:08d},2025-03-01,Anbieter X Export,,,de\n")


def stadtbote(env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [PYTHON, "-m", "stadtbote.cli", *args],
        env=env,
        cwd=env["STADTBOTE_DATA_DIR"],
        check=True,
        capture_output=True,
        timeout=900,
    )
    return time.perf_counter() - started


def one_run(data_dir: Path, csv_path: Path, database_url: str | None) -> tuple[float, float]:
    env = base_env(data_dir, **({"DATABASE_URL": database_url} if database_url else {}))
    stadtbote(env, "migrate", "--no-input")
    first = stadtbote(env, "import_subscribers", str(csv_path))
    again = stadtbote(env, "import_subscribers", str(csv_path))
    return first, again


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, object] = {
        "benchmark": "import_subscribers",
        "rows": args.rows,
        "machine": machine(),
    }
    with scratch_dir("import") as tmp:
        csv_path = tmp / "export.csv"
        write_csv(csv_path, args.rows)
        for backend in ("sqlite", "postgres"):
            firsts, agains = [], []
            for n in range(args.repeat):
                log(f"{backend} run {n + 1}/{args.repeat}")
                with scratch_dir(f"import-{backend}") as data_dir:
                    if backend == "postgres":
                        with fresh_postgres("import") as url:
                            first, again = one_run(data_dir, csv_path, url)
                    else:
                        first, again = one_run(data_dir, csv_path, None)
                firsts.append(first)
                agains.append(again)
            results[backend] = {
                "seconds_median": median(firsts),
                "rows_per_second": args.rows / (median(firsts) or 1),
                "second_run_seconds_median": median(agains),
                "runs": firsts,
            }
    emit(results)


if __name__ == "__main__":
    main()
