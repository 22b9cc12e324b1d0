"""Status application: how many delivery statuses per second the worker applies from stored
webhook bodies, on SQLite and on PostgreSQL, for the two shapes Meta sends.

N deliveries of one post are seeded as ACCEPTED with message ids (`seed.create_accepted`).
Per repetition, a `sent`, a `delivered` and a `read` status for every one of them (PMP
pricing, billable, category `marketing`; each with its own timestamp) are stored directly in
`channels_inboundwebhook` as Meta's JSON, as the webhook view would have stored them:

- `batched`: `--per-body` statuses in one body (Meta batches up to 1,000): all `sent` bodies,
  then all `delivered`, then all `read`;
- `single`: one status per body, the same order (what Meta commonly sends). This shape is run
  for the first `--single-n` deliveries only, because it stores three bodies per delivery.

Then the worker's own apply step, `dialogue.tasks.apply_inbound_once()` (=
`inbound.apply_pending(router.handle, batch_size=100)`, what the `apply_inbound` job loops
over), is called in this process until nothing is pending, and that loop is timed: parsing,
recording the status events, advancing the deliveries, the router's handling and marking each
body applied, with every commit. In-process rather than a worker process, so that the figure is
the apply itself, without the queue's start-up and polling. Afterwards the benchmark checks
that every delivery reached READ with all three timestamps and its billed category, and that
every body was applied. Storing the bodies and resetting the deliveries between repetitions
are not timed, nor is, on PostgreSQL, the VACUUM after the reset and the ANALYZE after storing
(what autovacuum does in a running system). Parsing alone (the same bodies through
`parser.parse`, no database) is timed separately to show its share.

Besides the wall time, the CPU time of the apply is measured: this process's, plus on
PostgreSQL that of its server process (read from /proc). On a machine shared with other work
the wall time varies a lot; statuses per CPU-second say what the apply itself costs, and as the
worker and its server process take turns, roughly the rate of one worker on an idle machine.

Each backend runs in its own child process (Django's settings are fixed at start-up) with its
own fresh database; no Redis is used (nothing is queued).

    .venv/bin/python bench/status_apply.py [--n 100000] [--single-n 20000] [--per-body 1000]
                                           [--repeat 3] [--backends sqlite,postgres]
                                           [--profile]
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import hashlib
import io
import json
import os
import pstats
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

from common import PYTHON, base_env, emit, fresh_postgres, log, machine, median, scratch_dir

CHILD_TIMEOUT = 3600
PREFIX = "ST"
STATES = ("sent", "delivered", "read")
INSERT_CHUNK = 2000
T0 = 1_790_000_000  # a fixed Unix time; statuses are spread over the following hours


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="deliveries (batched shape)")
    parser.add_argument(
        "--single-n", type=int, default=20_000, help="deliveries for the one-status-per-body shape"
    )
    parser.add_argument("--per-body", type=int, default=1000, help="statuses per batched body")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--profile", action="store_true", help="one more, profiled repetition")
    parser.add_argument("--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# --- bodies as Meta sends them ---------------------------------------------------------------


def message_id(i: int) -> str:
    return f"wamid.{PREFIX}{i:08d}"


def status_item(i: int, state: str, recipient: str) -> dict[str, Any]:
    step = STATES.index(state)
    return {
        "id": message_id(i),
        "status": state,
        "timestamp": str(T0 + i // 50 + 600 * step),
        "recipient_id": recipient,
        "conversation": {
            "id": hashlib.md5(message_id(i).encode()).hexdigest(),
            "origin": {"type": "marketing"},
        },
        "pricing": {
            "billable": True,
            "pricing_model": "PMP",
            "category": "marketing",
            "type": "regular",
        },
    }


def envelope(items: list[dict[str, Any]], phone_number_id: str, account: str, **more: Any) -> bytes:
    """Meta's envelope around statuses; `more` adds other keys to the value (an inbound message
    is `messages=[…], contacts=[…]` with no statuses)."""
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "4915100000000", "phone_number_id": phone_number_id},
        **({"statuses": items} if items else {}),
        **more,
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": account,
                "changes": [
                    {
                        "value": value,
                        "field": "messages",
                    }
                ],
            }
        ],
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def bodies(n: int, per_body: int, first_number: int) -> Iterator[bytes]:
    """All sent statuses, then all delivered, then all read, `per_body` to a body."""
    from django.conf import settings

    from seed import number

    phone_number_id = settings.WHATSAPP["PHONE_NUMBER_ID"]
    account = settings.WHATSAPP["BUSINESS_ACCOUNT_ID"]
    for state in STATES:
        for start in range(0, n, per_body):
            items = [
                status_item(i, state, number(first_number + i))
                for i in range(start, min(n, start + per_body))
            ]
            yield envelope(items, phone_number_id, account)


# --- the measuring child: Django set up against one database --------------------------------


def store(all_bodies: Iterator[bytes]) -> int:
    """What the webhook view stores, without the view: pending rows, unique by hash."""
    from stadtbote.channels.models import InboundWebhook

    stored, chunk = 0, []
    for body in all_bodies:
        chunk.append(
            InboundWebhook(
                channel="whatsapp", body=body, content_hash=hashlib.sha256(body).hexdigest()
            )
        )
        if len(chunk) == INSERT_CHUNK:
            InboundWebhook.objects.bulk_create(chunk)
            stored, chunk = stored + len(chunk), []
    InboundWebhook.objects.bulk_create(chunk)
    return stored + len(chunk)


def reset(post_id: int) -> None:
    """Every delivery back to ACCEPTED, no status events, no stored webhooks."""
    from django.db import connection

    from stadtbote.broadcasts.models import Delivery
    from stadtbote.channels.models import InboundWebhook, SendState, StatusEvent

    Delivery.objects.filter(post_id=post_id).update(
        state=SendState.ACCEPTED, sent_at=None, delivered_at=None, read_at=None, billed_category=""
    )
    with connection.cursor() as cursor:
        for model in (StatusEvent, InboundWebhook):
            cursor.execute(f"DELETE FROM {model._meta.db_table}")
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM")


def analyze() -> None:
    """Statistics as a running system has them. PostgreSQL's autovacuum keeps them current
    (with those of an empty inbound table, it would read every pending row to find the
    first hundred). SQLite has none unless ANALYZE is run, and the app never runs it."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def apply_all() -> int:
    """The worker's job body: apply batches until nothing is pending."""
    from stadtbote.dialogue.tasks import apply_inbound_once

    rounds = 0
    while apply_inbound_once():
        rounds += 1
    return rounds


def check(post_id: int, n: int) -> dict[str, Any]:
    from stadtbote.broadcasts.models import Delivery
    from stadtbote.channels.models import InboundWebhook, SendState

    rows = Delivery.objects.filter(post_id=post_id, message_id__lt=message_id(n))
    read = rows.filter(
        state=SendState.READ,
        sent_at__isnull=False,
        delivered_at__isnull=False,
        read_at__isnull=False,
    ).count()
    billed = rows.filter(billed_category="MARKETING").count()
    not_applied = InboundWebhook.objects.exclude(state=InboundWebhook.State.APPLIED).count()
    if read != n or not_applied:
        raise RuntimeError(f"{read} of {n} deliveries read, {not_applied} bodies not applied")
    return {
        "deliveries_read": read,
        "all_read": read == n,
        "all_billed": billed == n,
        "bodies_not_applied": not_applied,
    }


def parse_seconds(n: int, per_body: int, first_number: int) -> float:
    from stadtbote.channels.whatsapp.parser import parse

    prepared = list(bodies(n, per_body, first_number))
    started = time.perf_counter()
    for body in prepared:
        parse(body)
    return time.perf_counter() - started


def top_of_profile(profile: cProfile.Profile, count: int = 15) -> list[str]:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(count)
    lines = [line.rstrip() for line in out.getvalue().splitlines()]
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    return [line for line in lines[start : start + count + 1] if line]


def cpu_seconds() -> float:
    """CPU time of this process and, on PostgreSQL, of its server process (same machine):
    what the apply costs, whatever else the shared machine is doing meanwhile."""
    from django.db import connection

    own = time.process_time()
    if connection.vendor != "postgresql":
        return own
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return own + (utime + stime) / os.sysconf("SC_CLK_TCK")


def measure_shape(
    name: str, args: argparse.Namespace, post_id: int, first_number: int
) -> dict[str, Any]:
    from django.db import connection

    n = args.n if name == "batched" else min(args.single_n, args.n)
    per_body = args.per_body if name == "batched" else 1
    statuses = 3 * n
    runs: list[float] = []
    cpu_runs: list[float] = []
    profile_lines: list[str] = []
    for rep in range(args.repeat + (1 if args.profile else 0)):
        profiled = rep == args.repeat
        reset(post_id)
        stored = store(bodies(n, per_body, first_number))
        analyze()
        profile = cProfile.Profile() if profiled else None
        cpu_before = cpu_seconds()
        started = time.perf_counter()
        if profile is not None:
            profile.enable()
        rounds = apply_all()
        if profile is not None:
            profile.disable()
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds() - cpu_before
        checked = check(post_id, n)
        if profile is not None:
            profile_lines = top_of_profile(profile)
            log(f"status_apply {connection.vendor} {name} profiled: {elapsed:.2f} s")
            continue
        runs.append(elapsed)
        cpu_runs.append(cpu)
        log(
            f"status_apply {connection.vendor} {name} rep={rep}: {stored} bodies, "
            f"{statuses} statuses in {elapsed:.2f} s ({statuses / elapsed:,.0f}/s), "
            f"CPU {cpu:.2f} s ({statuses / cpu:,.0f}/s), {rounds} batches"
        )
    seconds = median(runs)
    cpu_median = median(cpu_runs)
    assert seconds is not None and cpu_median is not None
    parsing = parse_seconds(n, per_body, first_number)
    result: dict[str, Any] = {
        "deliveries": n,
        "statuses_per_body": per_body,
        "bodies": stored,
        "statuses": statuses,
        "seconds_runs": runs,
        "seconds_median": seconds,
        "statuses_per_second": statuses / seconds,
        "bodies_per_second": stored / seconds,
        "cpu_seconds_runs": cpu_runs,
        "cpu_seconds_median": cpu_median,
        "statuses_per_cpu_second": statuses / cpu_median,
        "parse_seconds": parsing,
        "parse_share": parsing / seconds,
        **checked,
    }
    if profile_lines:
        result["profile_top_tottime"] = profile_lines
    return result


def child(args: argparse.Namespace) -> dict[str, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stadtbote.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from seed import create_accepted
    from stadtbote.subscribers.models import Subscriber

    call_command("migrate", interactive=False, verbosity=0)
    started = time.perf_counter()
    seeded = create_accepted(args.n, PREFIX)
    seed_seconds = time.perf_counter() - started
    log(f"status_apply {connection.vendor}: seeded {args.n} deliveries in {seed_seconds:.1f} s")
    first_number = Subscriber.objects.count() - args.n  # create_accepted numbered them from here
    shapes = {
        name: measure_shape(name, args, seeded["post_id"], first_number)
        for name in ("batched", "single")
    }
    return {
        "backend": connection.vendor,
        "seed_seconds": seed_seconds,
        "shapes": shapes,
    }


# --- the parent: one child per backend -------------------------------------------------------


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    with contextlib.ExitStack() as cleanup:
        data = cleanup.enter_context(scratch_dir(f"status-{backend}"))
        env = base_env(data)
        if backend == "postgres":
            env["DATABASE_URL"] = cleanup.enter_context(fresh_postgres("status"))
        cmd = [PYTHON, __file__, "--child", backend, *passed_on(args)]
        result = subprocess.run(
            cmd, env=env, cwd=data, capture_output=True, timeout=CHILD_TIMEOUT, check=False
        )
        sys.stderr.write(result.stderr.decode(errors="replace"))
        if result.returncode != 0:
            raise RuntimeError(f"status apply on {backend} failed (exit {result.returncode})")
        return json.loads(result.stdout)


def passed_on(args: argparse.Namespace) -> list[str]:
    flags = [
        "--n",
        str(args.n),
        "--single-n",
        str(args.single_n),
        "--per-body",
        str(args.per_body),
        "--repeat",
        str(args.repeat),
    ]
    return [*flags, "--profile"] if args.profile else flags


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.child:
        print(json.dumps(child(args)))
        return 0
    by_backend = {}
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        log(f"status_apply: {backend}, n={args.n}, {args.repeat} repetitions")
        by_backend[backend] = run_backend(backend, args)
    summary = {
        f"{backend}_{shape}": data["shapes"][shape]["statuses_per_second"]
        for backend, data in by_backend.items()
        for shape in ("batched", "single")
    }
    per_cpu_second = {
        f"{backend}_{shape}": data["shapes"][shape]["statuses_per_cpu_second"]
        for backend, data in by_backend.items()
        for shape in ("batched", "single")
    }
    emit(
        {
            "benchmark": "status_apply",
            "what": "apply stored status webhooks in the worker (parse, record, advance, mark)",
            "machine": machine(),
            "target_statuses_per_second": 10_000,
            "statuses_per_second": summary,
            "statuses_per_cpu_second": per_cpu_second,
            "all_read": all(
                data["shapes"][shape]["all_read"]
                for data in by_backend.values()
                for shape in ("batched", "single")
            ),
            "results": by_backend,
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
