"""Only HTTP 200 counts; everything else is retried with backoff, as Meta does."""

from __future__ import annotations

import socket

import pytest

from .support import emulator, get_when, receiver, send, text_message, wait_until

pytestmark = pytest.mark.anyio


# A long delivered_delay keeps "delivered" out of these tests, so the receiver's failures
# all hit the "sent" status and the log holds only its attempts.
ONLY_SENT = {"delivered_delay": 30.0}


async def test_a_failed_delivery_is_retried_until_the_receiver_answers_200() -> None:
    async with (
        receiver(fail_first=2) as hook,
        emulator(webhook_url=hook.url, **ONLY_SENT) as client,
    ):
        wamid = await send(client, text_message())
        await wait_until(lambda: len(hook.statuses) == 1)
        log = await get_when(client, "/_emulator/webhooks", lambda log: log["pending"] == 0)

    assert [status["status"] for status in hook.statuses] == ["sent"]
    assert len(hook.requests) == 3
    assert [(entry["attempt"], entry["status_code"]) for entry in log["attempts"]] == [
        (1, 500),
        (2, 500),
        (3, 200),
    ]
    assert [entry["error"] for entry in log["attempts"]] == ["HTTP 500", "HTTP 500", None]
    assert [entry["next_retry_in"] for entry in log["attempts"]] == [0.01, 0.02, None]
    assert all(entry["message_id"] == wamid for entry in log["attempts"])


async def test_a_failed_event_does_not_hold_back_the_others() -> None:
    async with receiver(fail_first=1) as hook, emulator(webhook_url=hook.url) as client:
        await send(client, text_message())
        await wait_until(lambda: len(hook.statuses) == 2)

    # Each status arrives exactly once; the app has to cope with either order.
    assert sorted(status["status"] for status in hook.statuses) == ["delivered", "sent"]


async def test_retries_resend_the_same_signed_bytes() -> None:
    async with (
        receiver(fail_first=1) as hook,
        emulator(webhook_url=hook.url, **ONLY_SENT) as client,
    ):
        await send(client, text_message())
        await wait_until(lambda: len(hook.statuses) == 1)

    first, retry = hook.requests[0], hook.requests[1]
    assert retry.body == first.body
    assert retry.headers["X-Hub-Signature-256"] == first.headers["X-Hub-Signature-256"]


async def test_it_gives_up_after_max_attempts() -> None:
    async with (
        receiver(fail_first=1000) as hook,
        emulator(webhook_url=hook.url, max_attempts=3, **ONLY_SENT) as client,
    ):
        await send(client, text_message())
        log = await get_when(
            client,
            "/_emulator/webhooks",
            lambda log: len(log["attempts"]) == 3 and log["pending"] == 0,
        )

    assert len(hook.requests) == 3
    assert [entry["attempt"] for entry in log["attempts"]] == [1, 2, 3]
    assert not any(entry["ok"] for entry in log["attempts"])
    assert log["attempts"][-1]["next_retry_in"] is None


async def test_a_receiver_that_is_down_is_logged_as_a_connection_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{closed_port}/webhook"
    async with emulator(webhook_url=url, max_attempts=2, **ONLY_SENT) as client:
        await send(client, text_message())
        log = await get_when(
            client,
            "/_emulator/webhooks",
            lambda log: len(log["attempts"]) == 2 and log["pending"] == 0,
        )

    assert [entry["attempt"] for entry in log["attempts"]] == [1, 2]
    for entry in log["attempts"]:
        assert entry["status_code"] is None
        assert entry["error"].startswith("ConnectError")


async def test_without_a_webhook_url_events_are_only_logged() -> None:
    async with emulator(webhook_url=None) as client:
        await send(client, text_message())
        log = await get_when(client, "/_emulator/webhooks", lambda log: len(log["attempts"]) == 2)

    assert [entry["error"] for entry in log["attempts"]] == ["no webhook URL configured"] * 2
    assert [entry["next_retry_in"] for entry in log["attempts"]] == [None, None]
