"""Statuses of sent messages reach the app's webhook: signed, compact, in order."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from .support import (
    APP_SECRET,
    BUSINESS_ACCOUNT_ID,
    CITIZEN,
    PHONE_NUMBER_ID,
    Receiver,
    emulator,
    get_when,
    receiver,
    send,
    text_message,
    wait_until,
)

pytestmark = pytest.mark.anyio


def statuses_of(recorder: Receiver, wamid: str) -> list[str]:
    return [status["status"] for status in recorder.statuses if status["id"] == wamid]


async def test_a_sent_message_is_reported_sent_and_delivered() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url) as client:
        wamid = await send(client, text_message())
        await wait_until(lambda: statuses_of(hook, wamid) == ["sent", "delivered"])

    [sent, delivered] = hook.statuses
    assert sent["recipient_id"] == CITIZEN
    assert isinstance(sent["timestamp"], str)
    assert sent["timestamp"].isdigit()
    assert sent["pricing"] == {
        "billable": False,
        "pricing_model": "PMP",
        "type": "free_customer_service",
        "category": "service",
    }
    assert set(delivered) == {"id", "status", "timestamp", "recipient_id", "pricing"}


async def test_the_message_becomes_read_when_the_phone_opens_the_chat() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url) as client:
        wamid = await send(client, text_message())
        await wait_until(lambda: statuses_of(hook, wamid) == ["sent", "delivered"])
        read = await client.post(f"/_emulator/users/{CITIZEN}/read")
        await wait_until(lambda: len(statuses_of(hook, wamid)) == 3)
        again = await client.post(f"/_emulator/users/{CITIZEN}/read")
        chat = (await client.get(f"/_emulator/users/{CITIZEN}/messages")).json()

    assert read.json() == {"read": 1}
    assert again.json() == {"read": 0}
    assert statuses_of(hook, wamid) == ["sent", "delivered", "read"]
    assert chat["messages"][0]["status"] == "read"


async def test_a_chat_opened_before_delivery_still_reports_delivered_before_read() -> None:
    async with (
        receiver() as hook,
        emulator(webhook_url=hook.url, sent_delay=0.01, delivered_delay=0.1) as client,
    ):
        wamid = await send(client, text_message())
        await client.post(f"/_emulator/users/{CITIZEN}/read")
        await wait_until(lambda: len(statuses_of(hook, wamid)) == 3)

    assert statuses_of(hook, wamid) == ["sent", "delivered", "read"]


async def test_a_configured_read_delay_reads_without_the_phone() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url, read_delay=0.03) as client:
        wamid = await send(client, text_message())
        await wait_until(lambda: len(statuses_of(hook, wamid)) == 3)

    assert statuses_of(hook, wamid) == ["sent", "delivered", "read"]


async def test_statuses_of_many_messages_each_come_in_order() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url, read_delay=0.02) as client:
        wamids = [await send(client, text_message(f"Nachricht {n}")) for n in range(5)]
        await wait_until(lambda: len(hook.statuses) == 15)

    for wamid in wamids:
        assert statuses_of(hook, wamid) == ["sent", "delivered", "read"]


async def test_every_webhook_is_signed_over_the_exact_bytes_received() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url) as client:
        await send(client, text_message())
        await wait_until(lambda: len(hook.statuses) == 2)

    for received in hook.requests:
        expected = hmac.new(APP_SECRET.encode(), received.body, hashlib.sha256).hexdigest()
        assert received.headers["X-Hub-Signature-256"] == f"sha256={expected}"
        assert received.headers["Content-Type"] == "application/json"


async def test_webhook_bodies_are_compact_json_in_meta_envelope() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url) as client:
        await send(client, text_message())
        await wait_until(lambda: len(hook.statuses) == 2)

    for received in hook.requests:
        payload = received.json()
        assert received.body == json.dumps(
            payload, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")
        assert payload["object"] == "whatsapp_business_account"
        [entry] = payload["entry"]
        assert entry["id"] == BUSINESS_ACCOUNT_ID
        [change] = entry["changes"]
        assert change["field"] == "messages"
        assert change["value"]["messaging_product"] == "whatsapp"
        assert change["value"]["metadata"] == {
            "display_phone_number": "4915100000000",
            "phone_number_id": PHONE_NUMBER_ID,
        }


async def test_statuses_echo_the_callback_data_of_the_send() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url) as client:
        await send(client, text_message(biz_opaque_callback_data="broadcast:42"))
        await send(client, text_message())
        await wait_until(lambda: len(hook.statuses) == 4)

    tracked = [status for status in hook.statuses if "biz_opaque_callback_data" in status]
    assert [status["biz_opaque_callback_data"] for status in tracked] == ["broadcast:42"] * 2


async def test_the_delivery_log_records_each_attempt() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url) as client:
        wamid = await send(client, text_message())
        log = await get_when(client, "/_emulator/webhooks", lambda log: len(log["attempts"]) == 2)

    assert log["pending"] == 0
    assert [(entry["kind"], entry["detail"]) for entry in log["attempts"]] == [
        ("status", "sent"),
        ("status", "delivered"),
    ]
    for entry in log["attempts"]:
        assert entry["message_id"] == wamid
        assert entry["url"] == hook.url
        assert (entry["attempt"], entry["ok"], entry["status_code"]) == (1, True, 200)
        assert entry["error"] is None
        assert isinstance(entry["time"], float)
