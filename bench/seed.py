"""Fills the app's database for a benchmark, run in the app's environment (same database and
STADTBOTE_FIELD_KEY as the processes under test). Prints one JSON line.

    seed.py subscribers COUNT [--offset K]     active subscribers 4917<8 digits>
    seed.py accepted COUNT --prefix P          COUNT subscribers plus one post whose deliveries
                                               are ACCEPTED with message ids wamid.P<8 digits>
    seed.py staff                              a superuser "bench" and an API token for it

The functions are also imported by fanout.py after it has set Django up itself.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

CHUNK = 5000


def number(i: int) -> str:
    return f"4917{i:08d}"


def create_subscribers(count: int, offset: int = 0, chunk: int = CHUNK) -> list[int]:
    """Bulk-insert `count` active subscribers; returns their ids."""
    from django.utils import timezone

    from stadtbote.lib import crypto
    from stadtbote.subscribers.models import Subscriber

    now = timezone.now()
    ids: list[int] = []
    for start in range(offset, offset + count, chunk):
        rows = []
        for i in range(start, min(start + chunk, offset + count)):
            phone = number(i)
            rows.append(
                Subscriber(
                    phone_index=crypto.blind_index(phone),
                    phone_encrypted=crypto.encrypt(phone),
                    status=Subscriber.Status.ACTIVE,
                    confirmed_at=now,
                )
            )
        created = Subscriber.objects.bulk_create(rows, batch_size=1000)
        ids.extend(s.pk for s in created if s.pk is not None)
    return ids


def bench_user() -> Any:
    from django.contrib.auth.models import User

    user, _ = User.objects.get_or_create(
        username="bench",
        defaults={"is_staff": True, "is_superuser": True, "email": "b@example.org"},
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


def create_staff_token() -> str:
    from stadtbote.accounts.tokens import create_token

    return create_token(bench_user())


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
    sub.add_parser("staff")
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
    else:
        result = {"token": create_staff_token()}
    result["seconds"] = round(time.perf_counter() - started, 3)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
