"""The writer for PostgreSQL: on the event loop, with its own asynchronous connection.

A writer thread would have to win the GIL back from the busy event loop after every round trip
(up to 5 ms each time); here the batch's statement is just one more thing the loop waits for.
One statement per batch, in autocommit mode, is one round trip and one commit:

    INSERT INTO … SELECT …, b.channel, b.body, b.content_hash
    FROM unnest(%s::text[], %b::bytea[], %s::text[]) AS b(channel, body, content_hash)
    ON CONFLICT (content_hash) DO NOTHING

One batch is in flight at a time per process; the next gathers meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from typing import Any

import psycopg
from django.db import connection

from stadtbote.channels.intake.batch import (
    Body,
    announce,
    committed,
    failed,
    resolve,
    rows_of,
    take_batch,
)

# The bodies go in binary (%b): as text, bytea is hex, twice the bytes to write and to parse.
_PLACEHOLDERS = {"channel": "%s::text[]", "body": "%b::bytea[]", "content_hash": "%s::text[]"}


class PostgresWriter:
    """The batches of one event loop (one per web process)."""

    def __init__(self) -> None:
        self._waiting: list[Body] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._connection: psycopg.AsyncConnection[Any] | None = None

    def add(self, item: Body) -> None:
        self._waiting.append(item)
        self._wake.set()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._waiting:
                    await self._commit(take_batch(self._waiting))
        finally:
            # The loop is closing (shutdown, or the end of a test): leave the server tidy.
            if self._connection is not None:
                with contextlib.suppress(Exception):
                    await self._connection.close()

    async def _commit(self, batch: list[Body]) -> None:
        started = time.perf_counter()
        futures = [item.done for item in batch]
        try:
            inserted = await self._insert(batch)
        except Exception as exc:
            # A broken connection is not reused; the next batch opens a new one.
            if self._connection is not None:
                with contextlib.suppress(Exception):
                    await self._connection.close()
                self._connection = None
            resolve(futures, failed(batch, exc))
            return
        # On the loop: with Redis one round trip per batch; with huey's SQLite queue one short
        # write (a PostgreSQL installation without Redis).
        announce(inserted)
        resolve(futures, None)
        committed(batch, inserted, started)

    async def _insert(self, batch: list[Body]) -> int:
        if self._connection is None or self._connection.closed:
            self._connection = await psycopg.AsyncConnection.connect(
                **_connection_params(), autocommit=True
            )
        rows = rows_of(batch)
        quote = connection.ops.quote_name
        select = [f"b.{quote(c)}" if c in rows.varying else "%s" for c in rows.columns]
        unnest = ", ".join(_PLACEHOLDERS[c] for c in rows.varying)
        # Names from the model's metadata; every value is a parameter.
        sql = (
            f"INSERT INTO {quote(rows.table)} ({', '.join(quote(c) for c in rows.columns)}) "  # noqa: S608
            f"SELECT {', '.join(select)} "
            f"FROM unnest({unnest}) AS b({', '.join(quote(c) for c in rows.varying)}) "
            f"ON CONFLICT ({quote('content_hash')}) DO NOTHING"
        )
        params = [rows.shared[c] for c in rows.columns if c not in rows.varying]
        params += [rows.varying[c] for c in rows.varying]
        cursor = await self._connection.execute(sql, params)
        return max(cursor.rowcount, 0)


def _connection_params() -> dict[str, Any]:
    """Django's parameters for the configured database (its test database in tests), less what
    only its synchronous connections use."""
    params = dict(connection.get_connection_params())
    params.pop("cursor_factory", None)
    params.setdefault("connect_timeout", 10)  # a request waits for its batch (WAIT_SECONDS)
    return params


_writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, PostgresWriter] = (
    weakref.WeakKeyDictionary()
)


def writer_for(loop: asyncio.AbstractEventLoop) -> PostgresWriter:
    writer = _writers.get(loop)
    if writer is None:
        writer = _writers[loop] = PostgresWriter()
    return writer
