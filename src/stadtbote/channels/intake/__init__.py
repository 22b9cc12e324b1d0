"""Group commit for inbound webhook bodies: many requests, one transaction.

The fast webhook path (stadtbote.asgi → channels.whatsapp.views.receive_post) hands each
verified body to `store`, which returns once the batch the body went into is committed. A
writer takes whatever bodies are waiting, inserts them with one statement and one commit, and
then answers every waiting request at once. While it commits, the next batch gathers, so under
load a commit (PostgreSQL's WAL flush, SQLite's write lock) is paid once per batch rather than
once per webhook, and nothing waits on purpose when there is no load.

The rows are the ones `inbound.store` writes: unique by SHA-256 of the body (a retry of the
same bytes is stored once, also when both copies land in one batch), and `webhook_stored` is
sent once per batch that stored anything new, before its requests are answered; it schedules
the coalesced apply job.

Two writers, one per kind of database:

- PostgreSQL (`postgres_writer`): on the event loop itself, with its own asynchronous psycopg
  connection in autocommit mode: one statement per batch, one round trip, one commit, and no
  thread to hand over to.
- SQLite and anything else (`thread_writer`): a writer thread with Django's connection.
  SQLite is synchronous, and its write lock can be held by the worker for a while; the event
  loop must not wait for it.
"""

from __future__ import annotations

import asyncio
import hashlib

from django.conf import settings

from stadtbote.channels.intake import postgres_writer, thread_writer
from stadtbote.channels.intake.batch import WAIT_SECONDS, Body, NotStored

__all__ = ["NotStored", "stop", "store"]


async def store(channel: str, body: bytes) -> None:
    """Returns once `body` is committed (or was stored before); raises NotStored otherwise."""
    loop = asyncio.get_running_loop()
    item = Body(channel, body, hashlib.sha256(body).hexdigest(), loop.create_future())
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        postgres_writer.writer_for(loop).add(item)
    else:
        thread_writer.writer.add(item)
    try:
        async with asyncio.timeout(WAIT_SECONDS):
            await item.done
    except TimeoutError as exc:
        # It may still be committed later; Meta's retry of the same bytes is then ignored.
        raise NotStored("timed out") from exc


def stop() -> None:
    """Ends the writer thread and closes its connection (tests; the PostgreSQL writer ends
    with its event loop)."""
    thread_writer.writer.stop()
