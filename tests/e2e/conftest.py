"""The real app (with its worker or workers) and the real emulator, as separate processes:
embedded on SQLite, or scaled on PostgreSQL + Redis with two workers."""

from __future__ import annotations

import os
import secrets

import pytest

from tests import conftest
from tests.e2e.stack import running_stack


@pytest.fixture
def stack(tmp_path):
    if conftest.BACKEND == "postgres":
        database_url, cleanup = _fresh_postgres_database()
        redis_url = os.environ.get(
            "STADTBOTE_TEST_E2E_REDIS_URL", conftest.REDIS_URL.rsplit("/", 1)[0] + "/13"
        )
        _flush_redis(redis_url)
        try:
            with running_stack(
                tmp_path, scaled=True, database_url=database_url, redis_url=redis_url
            ) as s:
                yield s
        finally:
            cleanup()
    else:
        with running_stack(tmp_path, scaled=False, database_url=None, redis_url=None) as s:
            yield s


def _fresh_postgres_database():
    import psycopg

    name = f"stadtbote_e2e_{secrets.token_hex(4)}"
    admin_url = conftest.POSTGRES_URL.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def cleanup() -> None:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return conftest.POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}", cleanup


def _flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()
