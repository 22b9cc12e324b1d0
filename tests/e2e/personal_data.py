"""Looking through every table of the app's database (and the SQLite queue) for a string."""

from __future__ import annotations

import base64
import sqlite3
from pathlib import Path

from tests.e2e.stack import Stack


def _contains(value: object, needle: str) -> bool:
    if value is None:
        return False
    if isinstance(value, memoryview | bytes | bytearray):
        raw = bytes(value)
        return needle.encode() in raw or needle.encode() in _maybe_base64(raw)
    return needle in str(value)


def _maybe_base64(raw: bytes) -> bytes:
    try:
        return base64.b64decode(raw, validate=True)
    except ValueError:
        return b""


def tables_mentioning(stack: Stack, needle: str) -> list[str]:
    """Names of tables (and columns) in which `needle` occurs anywhere."""
    url = stack.env.get("DATABASE_URL")
    found: list[str] = []
    if url is None:
        for path in (stack.workdir / "stadtbote.sqlite3", stack.workdir / "queue.sqlite3"):
            found += _sqlite(path, needle)
        return found
    import psycopg

    with psycopg.connect(url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        ]
        for table in tables:
            cursor = conn.execute(f'SELECT * FROM "{table}"')
            columns = [c.name for c in cursor.description or []]
            for row in cursor:
                found += [
                    f"{table}.{c}"
                    for c, v in zip(columns, row, strict=True)
                    if _contains(v, needle)
                ]
    return sorted(set(found))


def _sqlite(path: Path, needle: str) -> list[str]:
    if not path.exists():
        return []
    found: list[str] = []
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            cursor = conn.execute(f'SELECT * FROM "{table}"')
            columns = [c[0] for c in cursor.description]
            for row in cursor:
                found += [
                    f"{table}.{c}"
                    for c, v in zip(columns, row, strict=True)
                    if _contains(v, needle)
                ]
    return sorted(set(found))
