"""From a citizen's "Start" on the emulator's phone to the read receipt in the post's counts,
with the app, its worker(s) and the emulator as separate processes talking HTTP."""

from __future__ import annotations

import secrets

import pytest

from tests import conftest
from tests.e2e.stack import request, running_stack, wait_until

pytestmark = pytest.mark.e2e

CITIZEN = "491701234567"


@pytest.fixture
def stack(tmp_path):
    if conftest.BACKEND == "postgres":
        database_url, cleanup = _fresh_postgres_database()
        redis_url = conftest.REDIS_URL.rsplit("/", 1)[0] + "/13"
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


def phone_messages(stack) -> list[dict]:
    status, body = request("GET", f"{stack.emulator_url}/_emulator/users/{CITIZEN}/messages")
    assert status == 200, body
    return body["messages"] if isinstance(body, dict) else body


def received(stack) -> list[dict]:
    return [m for m in phone_messages(stack) if m["direction"] == "out"]


def citizen_sends(stack, payload: dict) -> None:
    status, body = request("POST", f"{stack.emulator_url}/_emulator/users/{CITIZEN}/send", payload)
    assert status == 200, body


def text_of(message: dict) -> str:
    if message["type"] == "interactive":
        return message["interactive"]["body"]["text"]
    return message["text"]


def test_a_citizen_subscribes_gets_a_post_and_reads_it(stack):
    try:
        _walk_through(stack)
    except AssertionError:
        print(stack.logs())
        raise


def _walk_through(stack) -> None:
    # 1. The citizen writes "Start" and gets the confirmation question with buttons.
    citizen_sends(stack, {"type": "text", "text": "Start"})
    question = wait_until(
        lambda: next((m for m in received(stack) if m["type"] == "interactive"), None),
        what="the confirmation question",
    )
    buttons = question["interactive"]["action"]["buttons"]
    confirm = next(b["reply"] for b in buttons if b["reply"]["id"] == "subscription:confirm")

    # 2. The citizen taps "Ja, anmelden" and is welcomed.
    citizen_sends(
        stack,
        {
            "type": "button_reply",
            "id": confirm["id"],
            "title": confirm["title"],
            "context_id": question["id"],
        },
    )
    wait_until(lambda: any("Willkommen" in text_of(m) for m in received(stack)), what="welcome")

    # 3. Staff create and send a post through the REST API.
    stack.command(
        "createsuperuser", "--no-input", "--username", "editor", "--email", "e@example.org"
    )
    token = stack.command("create_api_token", "editor").strip()
    auth = {"Authorization": f"Bearer {token}"}
    status, post = request(
        "POST",
        f"{stack.app_url}/api/v1/posts",
        {"title": "Baustelle", "text": "Die *Hauptstraße* ist ab Montag gesperrt."},
        auth,
    )
    assert status == 201, post
    status, sent = request("POST", f"{stack.app_url}/api/v1/posts/{post['id']}/send", None, auth)
    assert status == 202, sent
    assert sent["queued"] == 1

    # 4. The phone receives it, the citizen opens the chat, and the read receipt comes back.
    wait_until(lambda: any("Hauptstraße" in text_of(m) for m in received(stack)), what="the post")
    status, _ = request("POST", f"{stack.emulator_url}/_emulator/users/{CITIZEN}/read", {})
    assert status == 200

    def counts() -> dict | None:
        _, body = request(
            "GET", f"{stack.app_url}/api/v1/posts/{post['id']}/deliveries", None, auth
        )
        return body if body.get("read") == 1 else None

    final = wait_until(counts, what="the read receipt in the post's counts")
    assert final["total"] == 1
    assert final["failed"] == 0

    # The post reached the citizen exactly once.
    posts = [m for m in received(stack) if "Hauptstraße" in text_of(m)]
    assert len(posts) == 1
