"""How fast the dashboards stay at a large city's size, on PostgreSQL.

    python bench/dashboards.py [--subscribers 1000000] [--posts 50] [--reuse] [--seed-only]

Seeds its own database (stadtbote_bench_dashboards; kept, and with --reuse not seeded again but
topped up to --posts, because seeding 50 million deliveries takes long) set-based in SQL: subscribers with topics
and districts, a year of consent ledger, posts with one delivery per subscriber each in a mix
of states, failure codes and billed categories, and status events. Then it times the rollup
(the first, full run and an incremental run after a few thousand new statuses) and the
dashboard page and the statistics API in-process through Django's test client: server time
per request, median and max of N requests, and the SQL queries per request. Prints JSON;
progress goes to stderr.

The seeded subscribers' numbers are not real ciphertexts: nothing here decrypts them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, emit, log, machine, median

sys.path.insert(0, str(ROOT / "src"))

DATABASE = os.environ.get("STADTBOTE_BENCH_DASHBOARDS_DB", "stadtbote_bench_dashboards")
ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
TOPICS = 8
DISTRICTS = 12


def database_url() -> str:
    return f"postgres://postgres@127.0.0.1:5432/{DATABASE}"


def ensure_database(reuse: bool) -> bool:
    """True when the database is new (or was dropped) and must be seeded."""
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone()
        if exists and reuse:
            return False
        if exists:
            conn.execute(f'DROP DATABASE "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    return True


def setup_django() -> None:
    os.environ["DATABASE_URL"] = database_url()
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("STADTBOTE_ENV_FILE", "")
    os.environ.setdefault("STADTBOTE_SECRET_KEY", "bench-dashboards-secret-key-0123456789")
    os.environ.setdefault("STADTBOTE_FIELD_KEY", "bench-dashboards-field-key-0123456789")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stadtbote.settings")
    import django

    django.setup()


def execute(sql: str, params: list[Any] | None = None) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def seed(subscribers: int, posts: int) -> dict[str, float]:
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from stadtbote.subscribers.models import District, Topic

    timings: dict[str, float] = {}
    call_command("migrate", interactive=False, verbosity=0)
    execute("SET synchronous_commit TO off")
    now = timezone.now()
    t0 = time.perf_counter()
    with transaction.atomic():
        for t in range(TOPICS):
            Topic.objects.get_or_create(
                slug=f"t{t}", defaults={"name": f"Topic {t}", "position": t}
            )
        for d in range(DISTRICTS):
            District.objects.get_or_create(
                slug=f"d{d}", defaults={"name": f"District {d}", "position": d}
            )
        # 85 % active, 10 % unsubscribed, 5 % waiting for confirmation; joined over the year.
        execute(
            """INSERT INTO subscribers_subscriber (phone_index, phone_encrypted, status, language,
                 created_at, confirmed_at, unsubscribed_at, last_inbound_at, marketing_stopped)
               SELECT md5('a' || g) || md5('b' || g), '\\x00'::bytea,
                 CASE WHEN g %% 20 = 0 THEN 'pending' WHEN g %% 10 = 3 THEN 'unsubscribed'
                      ELSE 'active' END,
                 CASE WHEN g %% 9 = 0 THEN 'en' ELSE 'de' END,
                 %s - make_interval(secs => (g * 31536000.0 / %s)),
                 CASE WHEN g %% 20 = 0 THEN NULL ELSE %s - make_interval(secs => (g * 31536000.0 / %s)) END,
                 CASE WHEN g %% 10 = 3 AND g %% 20 <> 0 THEN %s - make_interval(secs => (g * 15768000.0 / %s)) END,
                 %s - make_interval(secs => (g %% 2592000)), false
               FROM generate_series(1, %s) g""",
            [now, subscribers, now, subscribers, now, subscribers, now, subscribers],
        )
        execute(
            """INSERT INTO subscribers_subscriber_topics (subscriber_id, topic_id)
               SELECT s.id, t.id FROM subscribers_subscriber s
               JOIN subscribers_topic t ON t.position IN (s.id %% %s, (s.id / %s) %% %s)""",
            [TOPICS, TOPICS, TOPICS],
        )
        execute(
            """INSERT INTO subscribers_subscriber_districts (subscriber_id, district_id)
               SELECT s.id, d.id FROM subscribers_subscriber s
               JOIN subscribers_district d ON d.position = s.id %% %s""",
            [DISTRICTS],
        )
        # The ledger: a request before each confirmation would double it; the city imported
        # most from its previous provider (one line each), a request and confirmation for
        # the rest, and the withdrawals and expired requests.
        execute(
            """INSERT INTO subscribers_consentevent (subscriber_ref, action, channel, wording,
                 notice_version, source_message_id, referral, occurred_at)
               SELECT phone_index, a.action, 'whatsapp', 'bench', '1', '', '', a.at
               FROM subscribers_subscriber s
               CROSS JOIN LATERAL (VALUES
                 (CASE WHEN s.status = 'pending' THEN 'requested' ELSE 'confirmed' END,
                  coalesce(s.confirmed_at, s.created_at)),
                 (CASE WHEN s.status = 'unsubscribed' THEN 'withdrawn' END, s.unsubscribed_at),
                 (CASE WHEN s.id %% 20 = 0 THEN 'expired' END, s.created_at + interval '2 days')
               ) AS a(action, at)
               WHERE a.action IS NOT NULL AND a.at <= %s""",
            [now],
        )
    timings["subscribers_and_ledger_s"] = time.perf_counter() - t0
    log(f"subscribers and ledger: {timings['subscribers_and_ledger_s']:.0f} s")
    return timings | seed_posts(posts)


def seed_posts(posts: int) -> dict[str, float]:
    """Posts with a million deliveries each, up to `posts` of them: a database whose seeding
    was stopped is topped up by `--reuse`, the posts already there are kept."""
    from django.contrib.auth.models import User
    from django.db import connection, transaction
    from django.utils import timezone

    from stadtbote.broadcasts.models import Post

    timings: dict[str, float] = {}
    now = timezone.now()
    author, _ = User.objects.get_or_create(username="bench", defaults={"is_superuser": True})
    bench_posts = Post.objects.filter(title__startswith="Bench post ")
    bench_posts.filter(deliveries__isnull=True).delete()  # one whose seeding was stopped
    seeded = bench_posts.count()
    if seeded >= posts:
        return timings
    t0 = time.perf_counter()
    low, high = subscriber_ids()
    for n in range(seeded, posts):
        # One post every two days or so, the last one yesterday.
        started = now - (posts - n) * timedelta(days=2, hours=3)
        post = Post.objects.create(
            title=f"Bench post {n}",
            text="Bench text",
            author=author,
            status=Post.Status.SENT,
            send_started_at=started,
            sent_at=started + timedelta(hours=4),
        )
        with transaction.atomic():
            execute("SET LOCAL synchronous_commit TO off")
            execute(
                """INSERT INTO broadcasts_delivery (post_id, subscriber_id, queued_at, state,
                     message_id, attempts, last_error, error_code, dispatched_at, sent_at,
                     delivered_at, read_at, failed_at, via_template, billed_category)
                   SELECT %s, g, %s, st.state, 'wamid.B' || %s || '.' || g, 1,
                     CASE WHEN st.state = 50 THEN f.title ELSE '' END,
                     CASE WHEN st.state = 50 THEN f.code END,
                     at, at, CASE WHEN st.state IN (30, 40) THEN at + interval '5 s' END,
                     CASE WHEN st.state = 40 THEN at + interval '30 min' END,
                     CASE WHEN st.state = 50 THEN at + interval '5 s' END,
                     g %% 5 < 3,
                     CASE WHEN g %% 5 < 3 AND st.state IN (30, 40) THEN 'marketing' ELSE '' END
                   FROM generate_series(%s, %s) g
                   CROSS JOIN LATERAL (SELECT %s + make_interval(secs => (g - %s) / 80.0) AS at,
                     CASE WHEN g %% 100 < 2 THEN 50 WHEN g %% 100 < 5 THEN 20
                          WHEN g %% 100 < 35 THEN 30 ELSE 40 END AS state) st
                   CROSS JOIN LATERAL (SELECT (ARRAY[131026, 131049, 131047, 130472])[1 + g %% 4]
                     AS code, (ARRAY['Message undeliverable', 'Meta chose not to deliver',
                     'Re-engagement message', 'Experiment'])[1 + g %% 4] AS title) f""",
                [post.pk, started, post.pk, low, high, started, low],
            )
            # Meta's statuses for it: one line per reached state is 3 per delivery; the
            # latest post's are kept, older ones would have been pruned by now.
            if n == posts - 1:
                execute(
                    """INSERT INTO channels_statusevent (message_id, status, occurred_at,
                         error_code, error_title, pricing_category, billable, recorded_at)
                       SELECT message_id, 'read', read_at, NULL, '', '', NULL, read_at
                       FROM broadcasts_delivery WHERE post_id = %s AND state = 40""",
                    [post.pk],
                )
        log(f"post {n + 1}/{posts}: {time.perf_counter() - t0:.0f} s")
    timings["deliveries_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    # VACUUM sets the visibility map, so the funnel's count runs as an index-only scan, as
    # it would on a database that has lived for a while.
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    timings["vacuum_s"] = time.perf_counter() - t0
    return timings


def subscriber_ids() -> tuple[int, int]:
    from django.db.models import Max, Min

    from stadtbote.subscribers.models import Subscriber

    bounds = Subscriber.objects.aggregate(low=Min("id"), high=Max("id"))
    return int(bounds["low"]), int(bounds["high"])


def database_size() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        return str(cursor.fetchone()[0])


def counts() -> dict[str, int]:
    from django.db import connection

    result = {}
    with connection.cursor() as cursor:
        for table in [
            "subscribers_subscriber",
            "subscribers_consentevent",
            "broadcasts_post",
            "broadcasts_delivery",
            "channels_statusevent",
        ]:
            # The planner's estimate: counting 50 million rows exactly takes a minute.
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
            result[table] = int(cursor.fetchone()[0])
    return result


def timed_requests(client: Any, path: str, n: int, **headers: str) -> dict[str, Any]:
    """Server time of n GETs in-process (no network), and the SQL queries of one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    queries = 0
    for _ in range(n):
        with CaptureQueriesContext(connection) as captured:
            t0 = time.perf_counter()
            response = client.get(path, **headers)
            times.append((time.perf_counter() - t0) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
        queries = len(captured.captured_queries)
    return {"median_ms": median(times), "max_ms": max(times), "queries": queries, "n": n}


def measure(requests: int) -> dict[str, Any]:
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone
    from tests.helpers import staff_login

    from stadtbote.broadcasts.models import Delivery, Post
    from stadtbote.channels import statuses
    from stadtbote.channels.models import SendState
    from stadtbote.channels.types import DeliveryStatus, StatusUpdate
    from stadtbote.dashboards import rollup
    from stadtbote.dashboards.models import AudienceDay, PostFigures, Rollup, SubscriberDay

    call_command("migrate", interactive=False, verbosity=0)
    execute("ANALYZE")  # statistics, in case seeding was stopped before its VACUUM ANALYZE
    for model in (PostFigures, AudienceDay, SubscriberDay, Rollup):
        model.objects.all().delete()
    result: dict[str, Any] = {}
    log("first, full rollup")
    t0 = time.perf_counter()
    first = rollup.refresh(timezone.now())
    result["rollup_full_s"] = time.perf_counter() - t0
    result["rollup_full_posts"] = first.posts
    # A few thousand late statuses on the oldest post, through the real status path.
    oldest = Post.objects.order_by("send_started_at").first()
    late = list(
        Delivery.objects.filter(post=oldest, state=SendState.DELIVERED).values_list(
            "message_id", flat=True
        )[:5000]
    )
    now = timezone.now()
    t0 = time.perf_counter()
    statuses.record(
        StatusUpdate(message_id=m, status=DeliveryStatus.READ, timestamp=now, recipient="0")
        for m in late
        if m
    )
    result["late_statuses"] = len(late)
    result["late_statuses_apply_s"] = time.perf_counter() - t0
    log("incremental rollup")
    t0 = time.perf_counter()
    again = rollup.refresh(timezone.now())
    result["rollup_incremental_s"] = time.perf_counter() - t0
    result["rollup_incremental_posts"] = again.posts
    figures = PostFigures.objects.get(post=oldest)
    result["late_statuses_reached_figures"] = figures.read >= len(late)
    user, _ = User.objects.get_or_create(username="bench", defaults={"is_superuser": True})
    setup_test_environment()  # the test client's host name is allowed; nothing else changes
    client = Client()
    staff_login(client, user)
    pages = {}
    for path in ["/redaktion/zahlen/", "/redaktion/zahlen/?tage=365"]:
        timed_requests(client, path, 2)  # warm: templates, translations, connections
        pages[path] = timed_requests(client, path, requests)
        log(f"{path}: {pages[path]}")
    result["pages"] = pages
    result["api"] = measure_api(user, requests)
    return result


def measure_api(user: Any, requests: int) -> dict[str, Any]:
    from django.test import Client

    from stadtbote.accounts import tokens

    token = tokens.create_token(user, read_only=True)
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    result = {}
    for path in ["/api/v1/stats/subscribers", "/api/v1/stats/posts"]:
        timed_requests(client, path, 2, **headers)
        result[path] = timed_requests(client, path, requests, **headers)
        log(f"{path}: {result[path]}")
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--posts", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument("--seed-only", action="store_true")
    args = parser.parse_args(argv)
    free = shutil.disk_usage("/").free
    log(f"free disk: {free / 1e9:.0f} GB")
    fresh = ensure_database(args.reuse)
    setup_django()
    result: dict[str, Any] = {"benchmark": "dashboards", "machine": machine()}
    result["free_disk_gb_before"] = round(free / 1e9, 1)
    if fresh:
        result["seeding"] = seed(args.subscribers, args.posts)
    else:
        result["seeding"] = seed_posts(args.posts)
    result["rows"] = counts()
    result["database_size"] = database_size()
    if not args.seed_only:
        result |= measure(args.requests)
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
