"""Fills the app's database for a benchmark, run in the app's environment (same database and
STADTBOTE_FIELD_KEY as the processes under test). Prints one JSON line.

    seed.py subscribers COUNT [--offset K]     active subscribers 4917<8 digits>
    seed.py accepted COUNT --prefix P          COUNT subscribers plus one post whose deliveries
                                               are ACCEPTED with message ids wamid.P<8 digits>
    seed.py staff [--username bench]           a superuser and an API token for it
    seed.py topic SLUG COUNT                   an opt-in-only topic and COUNT more subscribers
                                               who chose it (only they get a post for it)

The functions are also imported by fanout.py after it has set Django up itself.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import sys
import time
from typing import Any

CHUNK = 20_000


def number(i: int) -> str:
    return f"4917{i:08d}"


def create_subscribers(count: int, offset: int = 0, chunk: int = CHUNK) -> list[int]:
    """Bulk-insert `count` active subscribers, inside WhatsApp's 24-hour window (so a post
    goes to them as free-form text); returns their ids.

    One million rows must take seconds, not minutes: each row's constant columns are prepared
    for the database once, only the encrypted number and its index are computed per row, and
    the rows go in with COPY (PostgreSQL) or executemany (SQLite) instead of the ORM."""
    from django.db import connection, transaction
    from django.utils import timezone

    from stadtbote.lib import crypto
    from stadtbote.subscribers.models import Subscriber

    now = timezone.now()
    template = Subscriber(
        phone_index="",
        phone_encrypted=b"",
        status=Subscriber.Status.ACTIVE,
        confirmed_at=now,
        last_inbound_at=now,
        created_at=now,
    )
    fields = [f for f in Subscriber._meta.concrete_fields if not f.primary_key]
    constant = [f.get_db_prep_save(f.pre_save(template, add=True), connection) for f in fields]
    columns = [f.column for f in fields]
    index_at = columns.index("phone_index")
    encrypted_at = columns.index("phone_encrypted")
    table = Subscriber._meta.db_table
    # crypto.blind_index, with the keyed hash set up once instead of once per number.
    keyed = hmac.new(crypto.current_key().index_key, digestmod=hashlib.sha256)

    def blind_index(phone: str) -> str:
        digest = keyed.copy()
        digest.update(phone.encode())
        return digest.hexdigest()

    assert blind_index(number(offset)) == crypto.blind_index(number(offset))
    ids: list[int] = []
    for start in range(offset, offset + count, chunk):
        rows = []
        for i in range(start, min(start + chunk, offset + count)):
            phone = number(i)
            row = list(constant)
            row[index_at] = blind_index(phone)
            row[encrypted_at] = crypto.encrypt(phone)
            rows.append(row)
        with transaction.atomic(), connection.cursor() as cursor:
            before = _max_id(cursor, table)
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(  # the psycopg cursor under Django's wrapper
                    f"COPY {table} ({', '.join(columns)}) FROM STDIN"
                ) as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
                )
            cursor.execute(f"SELECT id FROM {table} WHERE id > %s ORDER BY id", [before])
            ids.extend(r[0] for r in cursor.fetchall())
    return ids


def _max_id(cursor: Any, table: str) -> int:
    cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
    return int(cursor.fetchone()[0])


def bench_user(username: str = "bench") -> Any:
    from django.contrib.auth.models import User

    user, _ = User.objects.get_or_create(
        username=username,
        defaults={"is_staff": True, "is_superuser": True, "email": f"{username}@example.org"},
    )
    return user


def create_accepted(count: int, prefix: str) -> dict[str, Any]:
    """A sent post whose `count` deliveries wait for their `sent` status."""
    from django.utils import timezone

    from stadtbote.broadcasts.models import Delivery, Post
    from stadtbote.channels.models import SendState

    offset = _next_offset()
    subscriber_ids = create_subscribers(count, offset=offset)
    post = Post.objects.create(
        author=bench_user(),
        title="Bench",
        text="Status test",
        status=Post.Status.SENDING,
        send_started_at=timezone.now(),
    )
    rows = [
        Delivery(
            post=post,
            subscriber_id=sid,
            state=SendState.ACCEPTED,
            attempts=1,
            message_id=f"wamid.{prefix}{i:08d}",
        )
        for i, sid in enumerate(subscriber_ids)
    ]
    Delivery.objects.bulk_create(rows, batch_size=1000)
    return {"post_id": post.pk, "deliveries": len(rows), "first_number": number(offset)}


def create_topic_audience(slug: str, count: int) -> dict[str, Any]:
    from stadtbote.subscribers.models import Subscriber, Topic

    topic, _ = Topic.objects.get_or_create(
        slug=slug, defaults={"name": f"Bench {slug}", "opt_in_only": True}
    )
    offset = _next_offset()
    ids = create_subscribers(count, offset=offset)
    Subscriber.topics.through.objects.bulk_create(
        [Subscriber.topics.through(subscriber_id=sid, topic_id=topic.pk) for sid in ids]
    )
    return {"topic": slug, "numbers": [number(offset + n) for n in range(count)]}


def create_staff_token(username: str = "bench") -> str:
    from stadtbote.accounts.tokens import create_token

    return create_token(bench_user(username))


def _next_offset() -> int:
    from stadtbote.subscribers.models import Subscriber

    return Subscriber.objects.count()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("subscribers")
    p.add_argument("count", type=int)
    p.add_argument("--offset", type=int, default=None)
    p = sub.add_parser("accepted")
    p.add_argument("count", type=int)
    p.add_argument("--prefix", required=True)
    p = sub.add_parser("topic")
    p.add_argument("slug")
    p.add_argument("count", type=int)
    p = sub.add_parser("staff")
    p.add_argument("--username", default="bench", help="another one approves (four eyes)")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stadtbote.settings")
    import django

    django.setup()
    started = time.perf_counter()
    result: dict[str, Any]
    if args.what == "subscribers":
        offset = _next_offset() if args.offset is None else args.offset
        created = len(create_subscribers(args.count, offset=offset))
        result = {"created": created, "first_number": number(offset)}
    elif args.what == "accepted":
        result = create_accepted(args.count, args.prefix)
    elif args.what == "topic":
        result = create_topic_audience(args.slug, args.count)
    else:
        result = {"token": create_staff_token(args.username)}
    result["seconds"] = round(time.perf_counter() - started, 3)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
