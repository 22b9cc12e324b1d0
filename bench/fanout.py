"""Fan-out: how long `broadcasts.actions.send_post` takes to queue a post for every active
subscriber (one INSERT … SELECT … ON CONFLICT DO NOTHING), on SQLite and on PostgreSQL.

Each backend runs in its own child process (Django's settings are fixed at start-up) with its
own fresh database. Subscribers are created once per size (topped up from the smaller size);
each repetition creates a new post and times `send_post` alone, including its commit. The
deliveries of the previous repetition are deleted (and on PostgreSQL vacuumed) untimed, so
every repetition inserts into a table of the same size. No worker runs: the dispatch job that
`send_post` schedules on commit stays in the queue, nothing is sent.

Audiences: `city` (default) is a post without topics or districts to subscribers who chose
none, i.e. every active subscriber. `targeted` is a post for one topic and one district, with
half of the subscribers having chosen one of five topics and a third one of ten districts, so
the audience predicates (EXISTS sub-queries) do real work; about 43 % of them match.

    .venv/bin/python bench/fanout.py [--sizes 10000,100000] [--repeat 3]
                                     [--backends sqlite,postgres] [--audience city|targeted]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from typing import Any

from common import PYTHON, base_env, emit, fresh_postgres, log, machine, median, scratch_dir

CHILD_TIMEOUT = 1800


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated subscriber counts")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--audience", choices=["city", "targeted"], default="city")
    parser.add_argument("--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def sizes_of(args: argparse.Namespace) -> list[int]:
    return sorted({int(s) for s in args.sizes.split(",") if s.strip()})


# The targeted audience: subscriber number i (in creation order) chose topic t(i % 5) when i is
# even and district d(i % 10) when i is a multiple of 3; the post is for t0 and d0.
TOPICS, DISTRICTS = 5, 10


def eligible(i: int) -> bool:
    """Whether subscriber i gets the targeted post, by the rules in actions._fan_out."""
    topic_ok = i % 2 == 1 or i % 5 == 0  # chose none (t0 is not opt-in-only), or chose t0
    district_ok = i % 3 != 0 or i % 10 == 0  # chose none, or chose d0
    return topic_ok and district_ok


def add_choices(ids: list[int], offset: int) -> None:
    from stadtbote.subscribers.models import District, Subscriber, Topic

    topics = {t.slug: t.pk for t in Topic.objects.filter(slug__startswith="bench-t")}
    districts = {d.slug: d.pk for d in District.objects.filter(slug__startswith="bench-d")}
    topic_rows, district_rows = [], []
    for n, sid in enumerate(ids):
        i = offset + n
        if i % 2 == 0:
            topic_rows.append(
                Subscriber.topics.through(subscriber_id=sid, topic_id=topics[f"bench-t{i % 5}"])
            )
        if i % 3 == 0:
            district_rows.append(
                Subscriber.districts.through(
                    subscriber_id=sid, district_id=districts[f"bench-d{i % 10}"]
                )
            )
    Subscriber.topics.through.objects.bulk_create(topic_rows, batch_size=5000)
    Subscriber.districts.through.objects.bulk_create(district_rows, batch_size=5000)


def create_audience_choices() -> None:
    from stadtbote.subscribers.models import District, Topic

    for t in range(TOPICS):
        Topic.objects.get_or_create(slug=f"bench-t{t}", defaults={"name": f"Bench topic {t}"})
    for d in range(DISTRICTS):
        District.objects.get_or_create(slug=f"bench-d{d}", defaults={"name": f"Bench district {d}"})


# --- the measuring child: Django set up against one database --------------------------------


def child(args: argparse.Namespace) -> dict[str, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stadtbote.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from seed import bench_user, create_subscribers
    from stadtbote.broadcasts import actions
    from stadtbote.broadcasts.models import Delivery
    from stadtbote.subscribers.models import Subscriber

    call_command("migrate", interactive=False, verbosity=0)
    user = bench_user()
    targeted = args.audience == "targeted"
    audience: dict[str, Any] = {}
    if targeted:
        create_audience_choices()
        audience = {"topics": ["bench-t0"], "districts": ["bench-d0"]}
    vendor = connection.vendor
    table = Delivery._meta.db_table
    results = []
    have = 0
    for size in sizes_of(args):
        started = time.perf_counter()
        ids = create_subscribers(size - have, offset=have)
        if targeted:
            add_choices(ids, have)
        added = len(ids)
        seeding = time.perf_counter() - started
        have = size
        assert Subscriber.objects.filter(status="active").count() == size
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        expected = sum(1 for i in range(size) if eligible(i)) if targeted else size
        runs = []
        for rep in range(args.repeat):
            post = actions.create_post(
                user, title=f"Fan-out {size} #{rep}", text="Bench text", **audience
            )
            t0 = time.perf_counter()
            queued = actions.send_post(post)
            elapsed = time.perf_counter() - t0
            if queued != expected:
                raise RuntimeError(f"send_post queued {queued}, expected {expected}")
            runs.append(elapsed)
            log(f"fanout {vendor} size={size} rep={rep}: {elapsed:.3f} s")
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {table}")
                if vendor == "postgresql":
                    cursor.execute(f"VACUUM ANALYZE {table}")
        seconds = median(runs)
        assert seconds is not None
        entry: dict[str, Any] = {
            "subscribers": size,
            "seconds_runs": runs,
            "seconds_median": seconds,
            "queued": expected,
            "rows_per_second": expected / seconds,
            "subscribers_per_second": size / seconds,
            "seeded_subscribers": added,
            "seed_seconds": seeding,
        }
        if vendor == "postgresql":
            entry["postgres_breakdown"] = explain_fan_out(user, size, audience)
        results.append(entry)
    return {"backend": vendor, "sizes": results}


class _Rollback(Exception):
    pass


def explain_fan_out(user: Any, size: int, audience: dict[str, Any]) -> dict[str, Any]:
    """Where PostgreSQL spends the fan-out: the app's own INSERT … SELECT run once under
    EXPLAIN ANALYZE with the (normally deferred) foreign-key checks made immediate, so they
    show as trigger time, then rolled back."""
    from django.db import connection, transaction

    from stadtbote.broadcasts import actions

    post = actions.create_post(user, title=f"Explain {size}", text="Bench text", **audience)
    plans: list[Any] = []

    def explain(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.lstrip().upper().startswith("INSERT INTO") and "SELECT" in sql.upper():
            result = execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params, many, context)
            plans.append(context["cursor"].fetchone()[0])
            return result
        return execute(sql, params, many, context)

    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            with connection.execute_wrapper(explain):
                actions._fan_out(post)
            raise _Rollback
    except _Rollback:
        pass
    post.delete()
    if not plans:
        return {}
    plan = plans[0]
    plan = plan if isinstance(plan, list) else json.loads(plan)
    top = plan[0]
    triggers = top.get("Triggers", [])
    trigger_ms = sum(t["Time"] for t in triggers)
    return {
        "statement_ms": top["Execution Time"],
        "foreign_key_check_ms": trigger_ms,
        "insert_and_scan_ms": top["Execution Time"] - trigger_ms,
        "foreign_key_checks": sum(t["Calls"] for t in triggers),
    }


# --- the parent: one child per backend, then ratios -----------------------------------------


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    with contextlib.ExitStack() as cleanup:
        data = cleanup.enter_context(scratch_dir(f"fanout-{backend}"))
        env = base_env(data)
        if backend == "postgres":
            env["DATABASE_URL"] = cleanup.enter_context(fresh_postgres("fanout"))
        cmd = [
            PYTHON,
            __file__,
            "--child",
            backend,
            "--sizes",
            args.sizes,
            "--repeat",
            str(args.repeat),
            "--audience",
            args.audience,
        ]
        result = subprocess.run(
            cmd, env=env, cwd=data, capture_output=True, timeout=CHILD_TIMEOUT, check=False
        )
        sys.stderr.write(result.stderr.decode(errors="replace"))
        if result.returncode != 0:
            raise RuntimeError(f"fan-out on {backend} failed (exit {result.returncode})")
        return json.loads(result.stdout)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.child:
        print(json.dumps(child(args)))
        return 0
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    by_backend = {}
    for backend in backends:
        log(f"fanout: {backend}, sizes {args.sizes}, {args.repeat} repetitions")
        by_backend[backend] = run_backend(backend, args)
    ratios = []
    if "sqlite" in by_backend and "postgres" in by_backend:
        for s, p in zip(
            by_backend["sqlite"]["sizes"], by_backend["postgres"]["sizes"], strict=True
        ):
            ratios.append(
                {
                    "subscribers": s["subscribers"],
                    "postgres_vs_sqlite_rows_per_second": p["rows_per_second"]
                    / s["rows_per_second"],
                }
            )
    emit(
        {
            "benchmark": "fanout",
            "what": "send_post: INSERT … SELECT of one Delivery per active subscriber",
            "machine": machine(),
            "audience": args.audience,
            "repeat": args.repeat,
            "results": by_backend,
            "ratios": ratios,
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
