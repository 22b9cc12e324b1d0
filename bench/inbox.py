"""The inbox at a large city's size: the lists, search, a long conversation's page and the
intake of citizens' messages, on PostgreSQL and SQLite.

    python bench/inbox.py [--conversations 50000] [--messages 500000] [--concerns 20000]
                          [--intake 5000] [--citizens 1000] [--repeat 20]
                          [--backends postgres,sqlite]

Each backend runs in its own child process (Django's settings are fixed at start-up) with its
own fresh database (PostgreSQL: `STADTBOTE_BENCH_INBOX_DB`, default stadtbote_bench_inbox,
created and dropped; SQLite: a file in a scratch directory). The child seeds, set-based and
outside the ORM (COPY / executemany), one subscriber per conversation, the conversations
(statuses, departments, assignees, the open ones active in the last 30 days), messages in and
out with German texts drawn from word lists (some photos and places, internal notes), one
conversation with exactly 300 messages, and concerns with reference numbers and descriptions.
Then, in-process:

1. the inbox list's first page, `queries.conversations(filters, agent)[:50]` evaluated with its
   prefetch, for the default, status=open, overdue, a department and assignee=me; and the two
   list pages through Django's test client;
2. search (`q`) for a rare word, a frequent word and both, in conversations and concerns;
3. the page of the conversation with 300 messages (test client, logged in as an agent);
4. intake: `--intake` text webhooks from `--citizens` citizens stored as the webhook view
   stores them (`channels.inbound.store`), then `dialogue.tasks.apply_inbound_once()` looped
   until nothing is pending, timed; and the SQL queries per message on a further sample.

Times are milliseconds, median and p95 (nearest rank) of `--repeat` runs after two warm-up
runs, plus the SQL queries of one run. On PostgreSQL the search is run again with the trigram
indexes (migration inbox 0003) dropped for a while, and the lists and searches again with
`SET jit = off`, to show what each brings; the intake runs a second time, for other citizens,
without the indexes. Prints JSON; progress goes to stderr. Redis: `STADTBOTE_BENCH_REDIS_URL` (flushed before and after) on PostgreSQL.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from common import (
    PYTHON,
    REDIS_URL,
    base_env,
    emit,
    log,
    machine,
    median,
    percentile,
    redis_flushed,
    scratch_dir,
)

CHILD_TIMEOUT = 3600
ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DATABASE = os.environ.get("STADTBOTE_BENCH_INBOX_DB", "stadtbote_bench_inbox")
CHUNK = 20_000
LONG_CONVERSATION = 300
AGENTS = 10
RARE, FREQUENT = "Hydrant", "Straße"
RARE_EVERY = 5_000  # one message (and concern) in so many names the rare word

# --- German texts from word lists ------------------------------------------------------------

OPENERS = [
    "Guten Tag,",
    "Hallo,",
    "Moin,",
    "Sehr geehrte Damen und Herren,",
    "Hallo Stadtverwaltung,",
    "",
    "",
    "Entschuldigung,",
]
SUBJECTS = [
    "die Straßenlaterne",
    "der Gehweg",
    "die Ampel",
    "der Mülleimer",
    "das Schlagloch",
    "der Spielplatz",
    "die Parkbank",
    "der Radweg",
    "die Bushaltestelle",
    "der Container",
    "das Verkehrsschild",
    "die Brücke",
    "der Baum",
    "die Hecke",
    "der Sperrmüll",
    "die Toilette am Markt",
]
PROBLEMS = [
    "ist seit Tagen kaputt",
    "ist völlig verdreckt",
    "blockiert den Weg",
    "funktioniert nicht mehr",
    "ist umgefallen",
    "wurde beschmiert",
    "ist überfüllt",
    "macht nachts Lärm",
    "ist gefährlich für Kinder",
    "steht unter Wasser",
    "hat ein großes Loch",
    "ist zugewachsen",
]
PLACES = [
    "in der Hauptstraße",
    "an der Bahnhofstraße",
    "in der Schillerstraße",
    "am Marktplatz",
    "beim Rathaus",
    "an der Goethestraße",
    "im Stadtpark",
    "vor der Grundschule",
    "an der Ecke Lindenallee",
    "in der Kirchgasse",
    "am Friedhof",
    "neben dem Kindergarten",
    "an der Haltestelle Mühlweg",
    "hinter dem Sportplatz",
]
EXTRAS = [
    "Bitte kümmern Sie sich darum.",
    "Das ist schon das dritte Mal.",
    "Können Sie das bitte prüfen?",
    "Wann wird das repariert?",
    "Vielen Dank im Voraus!",
    "Mein Nachbar hat das auch schon gemeldet.",
    "Ich habe ein Foto gemacht.",
    "Es ist wirklich dringend.",
    "Wer ist dafür zuständig?",
    "Danke für die schnelle Antwort.",
    "Ok, danke.",
    "Wann kommt die Müllabfuhr?",
    "Wo kann ich einen neuen Ausweis beantragen?",
    "Gibt es einen Termin beim Bürgerbüro?",
]
ANSWERS = [
    "Vielen Dank für Ihre Nachricht. Wir haben das an die zuständige Stelle weitergegeben.",
    "Danke für den Hinweis, der Bauhof ist informiert.",
    "Guten Tag, können Sie uns den genauen Ort nennen?",
    "Das wurde inzwischen erledigt. Danke für Ihre Geduld.",
    "Für Termine beim Bürgerbüro nutzen Sie bitte die Online-Terminvergabe.",
    "Wir melden uns, sobald wir mehr wissen.",
]
AUTO = [
    "Danke für Ihre Nachricht. Wir antworten zu unseren Öffnungszeiten.",
    "Danke, Ihre Nachricht ist angekommen.",
]
NOTES = ["Bauhof informiert", "Rückfrage beim Ordnungsamt", "Doppelt gemeldet", "erledigt"]


def citizen_text(rnd: random.Random) -> str:
    parts = [rnd.choice(OPENERS)]
    if rnd.random() < 0.7:
        parts.append(f"{rnd.choice(SUBJECTS)} {rnd.choice(PLACES)} {rnd.choice(PROBLEMS)}.")
    # Never a greeting alone: "Hallo" is the chat's Start command, not a message for the inbox.
    parts.extend(rnd.sample(EXTRAS, rnd.randint(0 if len(parts) > 1 else 1, 2)))
    return " ".join(p for p in parts if p)


# --- the parent: one child per backend -------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=50_000)
    parser.add_argument("--messages", type=int, default=500_000)
    parser.add_argument("--concerns", type=int, default=20_000)
    parser.add_argument("--intake", type=int, default=5_000)
    parser.add_argument("--citizens", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--search-repeat", type=int, default=10, help="searches take seconds")
    parser.add_argument("--backends", default="postgres,sqlite")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    return parser.parse_args(argv)


@contextlib.contextmanager
def postgres_database(keep: bool) -> Iterator[str]:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    try:
        yield f"postgres://postgres@127.0.0.1:5432/{DATABASE}"
    finally:
        if not keep:
            with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def run_backend(backend: str, args: argparse.Namespace, argv: list[str]) -> dict[str, Any]:
    with contextlib.ExitStack() as cleanup:
        data = cleanup.enter_context(scratch_dir(f"inbox-{backend}"))
        env = base_env(data)
        if backend == "postgres":
            env["DATABASE_URL"] = cleanup.enter_context(postgres_database(args.keep))
            env["REDIS_URL"] = cleanup.enter_context(redis_flushed(REDIS_URL))
        result = subprocess.run(
            [PYTHON, __file__, *argv, "--child", backend],
            env=env,
            cwd=data,
            stdout=subprocess.PIPE,
            timeout=CHILD_TIMEOUT,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"inbox benchmark on {backend} failed (exit {result.returncode})")
        return dict(json.loads(result.stdout))


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.child:
        print(json.dumps(child(args)))
        return 0
    results = {}
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        log(f"inbox: {backend}")
        results[backend] = run_backend(backend, args, argv)
    emit({"benchmark": "inbox", "machine": machine(), "results": results})
    return 0


# --- the child: seed and measure --------------------------------------------------------------


def child(args: argparse.Namespace) -> dict[str, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stadtbote.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", interactive=False, verbosity=0)
    result: dict[str, Any] = {"backend": connection.vendor}
    t0 = time.perf_counter()
    seeded = seed(args)
    result["seed_seconds"] = time.perf_counter() - t0
    result["rows"] = seeded.pop("rows")
    log(f"{connection.vendor}: seeded in {result['seed_seconds']:.0f} s: {result['rows']}")
    analyze()
    result["lists"] = measure_lists(seeded, args.repeat)
    result["search"] = measure_search(seeded, args.search_repeat)
    if connection.vendor == "postgresql":
        with without_trigram_indexes():
            result["search_without_trigram_indexes"] = measure_search(seeded, args.search_repeat)
        # PostgreSQL compiles a query whose estimated cost is high enough (jit_above_cost),
        # which costs more than it saves on these: the same without JIT, for comparison.
        with jit_off():
            result["lists_jit_off"] = measure_lists(seeded, args.repeat)
            result["search_jit_off"] = measure_search(seeded, args.search_repeat)
            with without_trigram_indexes():
                result["search_without_trigram_indexes_jit_off"] = measure_search(
                    seeded, args.repeat
                )
    result["conversation_page"] = measure_conversation_page(seeded, args.repeat)
    result["intake"] = measure_intake(args, 0)
    if connection.vendor == "postgresql":
        result["trigram_index_sizes"] = index_sizes()
        # What the indexes cost the writes: the same again for another thousand citizens.
        with without_trigram_indexes():
            result["intake_without_trigram_indexes"] = measure_intake(args, args.citizens)
    return result


def execute(sql: str, params: list[Any] | None = None) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def analyze() -> None:
    """Statistics as autovacuum keeps them in a running system (SQLite: as the app has them,
    none)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        execute("VACUUM ANALYZE")


def insert(model: Any, columns: list[str], rows: Iterable[tuple[Any, ...]]) -> None:
    """Rows of `model` with these columns; the other columns get the model's defaults. COPY on
    PostgreSQL, executemany on SQLite (whose datetimes are adapted as Django does)."""
    from django.db import connection, models, transaction

    template = model()
    fields = {f.column: f for f in model._meta.concrete_fields if not f.primary_key}
    rest = [c for c in fields if c not in columns]
    constant = tuple(
        fields[c].get_db_prep_save(getattr(template, fields[c].attname), connection) for c in rest
    )
    names = ", ".join([*columns, *rest])
    table = model._meta.db_table
    adapt: list[Callable[[Any], Any] | None] = [
        connection.ops.adapt_datetimefield_value
        if connection.vendor == "sqlite" and isinstance(fields[c], models.DateTimeField)
        else None
        for c in columns
    ]
    batch: list[tuple[Any, ...]] = []

    def flush() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in batch:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * (len(columns) + len(rest)))
                cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", batch)
        batch.clear()

    for row in rows:
        values = tuple(
            v if a is None or v is None else a(v) for v, a in zip(row, adapt, strict=True)
        )
        batch.append(values + constant)
        if len(batch) >= CHUNK:
            flush()
    if batch:
        flush()


def seed(args: argparse.Namespace) -> dict[str, Any]:
    from django.contrib.auth.models import User
    from django.utils import timezone

    from seed import create_subscribers
    from stadtbote.accounts import roles
    from stadtbote.inbox.models import Category, Concern, Conversation, Message, Status

    rnd = random.Random(20261202)
    now = timezone.now()
    agents = []
    for n in range(AGENTS):
        user = User.objects.create(username=f"agent{n}", is_staff=True)
        roles.assign(user, roles.Role.AGENT)
        agents.append(user.pk)
    me = agents[0]
    categories = list(Category.objects.values_list("pk", "department_id"))
    departments = sorted({d for _, d in categories if d is not None})
    subscriber_ids = create_subscribers(args.conversations)

    # Conversations: a year of them; the open ones were active in the last 30 days.
    conversation_rows = []
    spans: list[tuple[datetime, datetime]] = []
    for subscriber in subscriber_ids:
        created = now - timedelta(days=rnd.uniform(0, 365))
        roll = rnd.random()
        status = (
            Status.RESOLVED
            if roll < 0.6
            else Status.NEW
            if roll < 0.75
            else Status.IN_PROGRESS
            if roll < 0.9
            else Status.WAITING
        )
        if status == Status.RESOLVED:
            last_in = created + (now - created) * rnd.random()
        else:
            last_in = now - timedelta(days=rnd.uniform(0, 30))
            created = min(created, last_in)
        answered = status != Status.NEW or rnd.random() < 0.3
        awaiting = last_in if status != Status.RESOLVED and rnd.random() < 0.5 else None
        last_answer = last_in + timedelta(hours=rnd.uniform(0.1, 30)) if answered else None
        if last_answer and last_answer > now:
            last_answer = now
        assignee = rnd.choice(agents) if rnd.random() < 0.3 else None
        department = rnd.choice(departments) if departments and rnd.random() < 0.8 else None
        conversation_rows.append(
            (
                subscriber,
                status,
                department,
                assignee,
                created,
                last_in,
                awaiting,
                last_answer,
                last_answer,
                last_answer if status == Status.RESOLVED else None,
            )
        )
        spans.append((created, last_in))
    insert(
        Conversation,
        [
            "subscriber_id",
            "status",
            "department_id",
            "assignee_id",
            "created_at",
            "last_inbound_at",
            "awaiting_since",
            "first_answer_at",
            "last_answer_at",
            "resolved_at",
        ],
        conversation_rows,
    )
    conversation_ids = list(
        Conversation.objects.order_by("subscriber_id").values_list("pk", flat=True)
    )
    log(f"{len(conversation_ids)} conversations")

    # Messages: about `--messages`, a few per conversation (skewed), one with exactly 300.
    per = [1 + round(rnd.expovariate(1 / (args.messages / args.conversations - 1))) for _ in spans]
    long_index = len(per) // 2
    per[long_index] = LONG_CONVERSATION
    message_count = 0

    def messages() -> Iterator[tuple[Any, ...]]:
        nonlocal message_count
        for index, (conversation, (start, end), count) in enumerate(
            zip(conversation_ids, spans, per, strict=True)
        ):
            span = max((end - start).total_seconds(), 60.0)
            for k in range(count):
                at = start + timedelta(seconds=span * (k + 1) / count)
                roll = rnd.random()
                author = None
                lat = lon = None
                mime, state, file, kind = "", "", "", Message.Kind.TEXT
                if roll < 0.55 or k == count - 1:
                    direction = Message.Direction.IN
                    text = citizen_text(rnd)
                    kind_roll = rnd.random()
                    if kind_roll < 0.05:
                        kind, mime, state = Message.Kind.IMAGE, "image/jpeg", "stored"
                        file = f"bench/{index}-{k}.jpg"
                        text = "" if rnd.random() < 0.6 else text
                    elif kind_roll < 0.07:
                        kind, text = Message.Kind.LOCATION, f"{rnd.choice(PLACES)[3:]} 12"
                        lat, lon = 52.5 + rnd.uniform(-0.1, 0.1), 13.4 + rnd.uniform(-0.1, 0.1)
                    if message_count % RARE_EVERY == 0:
                        text = f"Der {RARE} {rnd.choice(PLACES)} ist undicht. {text}"
                elif roll < 0.85:
                    direction, text, author = Message.Direction.OUT, rnd.choice(ANSWERS), me
                elif roll < 0.95:
                    direction, text = Message.Direction.AUTO, rnd.choice(AUTO)
                else:
                    direction, text = Message.Direction.NOTE, rnd.choice(NOTES)
                    author = rnd.choice(agents)
                message_count += 1
                yield (conversation, direction, kind, text, author, at, lat, lon, mime, state, file)

    insert(
        Message,
        [
            "conversation_id",
            "direction",
            "kind",
            "text",
            "author_id",
            "created_at",
            "latitude",
            "longitude",
            "mime_type",
            "media_state",
            "file",
        ],
        messages(),
    )
    log(f"{message_count} messages")

    def concerns() -> Iterator[tuple[Any, ...]]:
        for n in range(args.concerns):
            index = rnd.randrange(len(conversation_ids))
            start, end = spans[index]
            created = start + (end - start) * rnd.random()
            category, department = rnd.choice(categories)
            status = rnd.choice(list(Status))
            description = citizen_text(rnd)
            if n % (RARE_EVERY // 25) == 0:
                description = f"{RARE} {description}"
            answered = created + timedelta(hours=2) if status != Status.NEW else None
            yield (
                f"M-{created:%Y}-{n + 1:05d}",
                conversation_ids[index],
                category,
                department,
                status,
                description,
                52.5 + rnd.uniform(-0.1, 0.1),
                13.4 + rnd.uniform(-0.1, 0.1),
                created,
                answered or created,
                answered,
                answered if status == Status.RESOLVED else None,
            )

    insert(
        Concern,
        [
            "reference",
            "conversation_id",
            "category_id",
            "department_id",
            "status",
            "description",
            "latitude",
            "longitude",
            "created_at",
            "updated_at",
            "first_answer_at",
            "resolved_at",
        ],
        concerns(),
    )
    rows = {
        "conversations": Conversation.objects.count(),
        "messages": Message.objects.count(),
        "messages_with_photo": Message.objects.filter(kind=Message.Kind.IMAGE).count(),
        "messages_with_place": Message.objects.filter(kind=Message.Kind.LOCATION).count(),
        "concerns": Concern.objects.count(),
        "subscribers": len(subscriber_ids),
    }
    return {
        "rows": rows,
        "me": me,
        "department": departments[0] if departments else None,
        "long_conversation": conversation_ids[long_index],
    }


# --- measuring --------------------------------------------------------------------------------


def timed(fn: Callable[[], Any], repeat: int) -> dict[str, Any]:
    """Median and p95 of `repeat` runs after two warm-up runs; the SQL queries of one run."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):
        fn()
    times = []
    rows = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        rows = fn()
        times.append((time.perf_counter() - t0) * 1000)
    with CaptureQueriesContext(connection) as captured:
        fn()
    result = {
        "median_ms": median(times),
        "p95_ms": percentile(times, 95),
        "queries": len(captured.captured_queries),
    }
    if isinstance(rows, int):
        result["rows"] = rows
    return result


def agent() -> Any:
    from django.contrib.auth.models import User

    return User.objects.get(username="agent0")


def client_for(user: Any) -> Any:
    from django.test import Client
    from django.test.utils import setup_test_environment
    from tests.helpers import staff_login

    with contextlib.suppress(RuntimeError):  # already set up
        setup_test_environment()
    client = Client()
    staff_login(client, user)
    return client


def page(client: Any, path: str) -> Callable[[], int]:
    def get() -> int:
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
        return len(response.content)

    return get


def measure_lists(seeded: dict[str, Any], repeat: int) -> dict[str, Any]:
    from stadtbote.inbox import queries
    from stadtbote.inbox.models import Department

    user = agent()
    department = Department.objects.get(pk=seeded["department"])
    variants = {
        "default": queries.Filters(),
        "status_open": queries.Filters(status=queries.OPEN),
        "overdue": queries.Filters(overdue=True),
        "department": queries.Filters(department=department),
        "assignee_me": queries.Filters(assignee=queries.ME),
    }
    result: dict[str, Any] = {}
    for name, filters in variants.items():
        result[name] = timed(
            lambda f=filters: len(list(queries.conversations(f, user)[:50])), repeat
        )
        log(f"list {name}: {result[name]}")
    client = client_for(user)
    for path in ["/posteingang/", "/posteingang/?status=open", "/posteingang/meldungen/"]:
        result[f"page {path}"] = timed(page(client, path), repeat)
        log(f"page {path}: {result[f'page {path}']}")
    return result


def measure_search(seeded: dict[str, Any], repeat: int) -> dict[str, Any]:
    from stadtbote.inbox import queries

    user = agent()
    result: dict[str, Any] = {}
    for q in [RARE, FREQUENT, f"{RARE} {FREQUENT}", "Xylophon"]:
        filters = queries.Filters(q=q)
        result[f"conversations q={q}"] = timed(
            lambda f=filters: len(list(queries.conversations(f, user)[:50])), repeat
        )
        result[f"concerns q={q}"] = timed(
            lambda f=filters: len(list(queries.concerns(f)[:50])), repeat
        )
        log(f"search {q}: {result[f'conversations q={q}']} {result[f'concerns q={q}']}")
    client = client_for(user)
    for path in [f"/posteingang/?q={RARE}", f"/posteingang/meldungen/?q={RARE}"]:
        result[f"page {path}"] = timed(page(client, path), repeat)
        log(f"page {path}: {result[f'page {path}']}")
    return result


@contextlib.contextmanager
def without_trigram_indexes() -> Iterator[None]:
    """The search as it was before migration inbox 0003: its indexes dropped for a while."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE %s",
            ["%trgm%"],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    log(f"dropped for a while: {[name for name, _ in indexes]}")
    if indexes:
        analyze()
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for _, definition in indexes:
                cursor.execute(definition)
        analyze()


@contextlib.contextmanager
def jit_off() -> Iterator[None]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        before = cursor.fetchone()[0]
        cursor.execute("SET jit = off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"SET jit = {'on' if before == 'on' else 'off'}")


def measure_conversation_page(seeded: dict[str, Any], repeat: int) -> dict[str, Any]:
    client = client_for(agent())
    path = f"/posteingang/{seeded['long_conversation']}/"
    result = timed(page(client, path), repeat)
    result["path"] = "/posteingang/<id>/"
    result["messages"] = LONG_CONVERSATION
    log(f"conversation page: {result}")
    return result


def inbound_body(sender: str, text: str, serial: int) -> bytes:
    from django.conf import settings

    value = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": "4915100000000",
            "phone_number_id": settings.WHATSAPP["PHONE_NUMBER_ID"],
        },
        "contacts": [{"profile": {"name": "Bürger"}, "wa_id": sender}],
        "messages": [
            {
                "from": sender,
                "id": f"wamid.BENCHIN{serial:012d}",
                "timestamp": str(int(time.time())),
                "type": "text",
                "text": {"body": text},
            }
        ],
    }
    envelope = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": settings.WHATSAPP["BUSINESS_ACCOUNT_ID"],
                "changes": [{"value": value, "field": "messages"}],
            }
        ],
    }
    return json.dumps(envelope).encode()


def index_sizes() -> dict[str, str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT indexname, pg_size_pretty(pg_relation_size(indexname::regclass))
               FROM pg_indexes WHERE indexname LIKE %s ORDER BY indexname""",
            ["%trgm%"],
        )
        return dict(cursor.fetchall())


def store_inbound(first: int, count: int, citizens: int, first_citizen: int) -> None:
    from seed import number
    from stadtbote.channels import inbound

    rnd = random.Random(first)
    for serial in range(first, first + count):
        sender = number(first_citizen + serial % citizens)
        body = inbound_body(sender, citizen_text(rnd), serial)
        if not inbound.store(channel="whatsapp", body=body).created:
            raise RuntimeError("a webhook body was stored twice")


def measure_intake(args: argparse.Namespace, first_citizen: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from stadtbote.channels.models import InboundWebhook
    from stadtbote.dialogue.models import Reply
    from stadtbote.dialogue.tasks import apply_inbound_once
    from stadtbote.inbox.models import Message

    before = Message.objects.filter(direction=Message.Direction.IN).count()
    replies_before = Reply.objects.count()
    t0 = time.perf_counter()
    offset = 10**9 if first_citizen else 0  # other message ids for other citizens
    store_inbound(offset, args.intake, args.citizens, first_citizen)
    store_seconds = time.perf_counter() - t0
    analyze()
    t0 = time.perf_counter()
    batches = 0
    while apply_inbound_once():
        batches += 1
    seconds = time.perf_counter() - t0
    stored = Message.objects.filter(direction=Message.Direction.IN).count() - before
    not_applied = InboundWebhook.objects.exclude(state=InboundWebhook.State.APPLIED).count()
    if stored != args.intake or not_applied:
        raise RuntimeError(f"{stored} of {args.intake} stored, {not_applied} not applied")
    result: dict[str, Any] = {
        "webhooks": args.intake,
        "citizens": args.citizens,
        "store_seconds": store_seconds,
        "apply_seconds": seconds,
        "messages_per_second": args.intake / seconds,
        "batches": batches,
        "automatic_answers_queued": Reply.objects.count() - replies_before,
    }
    sample = 200
    store_inbound(offset + args.intake, sample, args.citizens, first_citizen)
    with CaptureQueriesContext(connection) as captured:
        while apply_inbound_once():
            pass
    result["queries_per_message"] = len(captured.captured_queries) / sample
    log(f"intake: {result}")
    return result


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
