"""The statuses of accepted sends: pricing, reactions, skipped deliveries and BSUID fields."""

from __future__ import annotations

from typing import Any

import pytest

from .inbound_support import fixture
from .policy_support import (
    POLICY,
    UTILITY_TEMPLATE,
    citizen_writes,
    create_utility_template,
    outcome,
    statuses_for,
    template_message,
)
from .support import (
    BUSINESS_ACCOUNT_ID,
    CITIZEN,
    Receiver,
    emulator,
    get_when,
    receiver,
    send,
    text_message,
    wait_until,
)

pytestmark = pytest.mark.anyio


def pricing(billable: bool, kind: str, category: str) -> dict[str, Any]:
    return {"billable": billable, "pricing_model": "PMP", "type": kind, "category": category}


async def priced(hook: Receiver, wamid: str) -> dict[str, Any]:
    status = await outcome(hook, wamid)
    assert status["status"] == "sent", status
    result: dict[str, Any] = status["pricing"]
    return result


# --- pricing ------------------------------------------------------------------------------------


async def test_each_message_is_priced_by_category_and_window() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url, **POLICY) as client:
        await create_utility_template(client)
        utility_outside = await send(client, template_message(UTILITY_TEMPLATE))
        marketing_outside = await send(client, template_message())
        await citizen_writes(client)
        free_form = await send(client, text_message())
        utility_inside = await send(client, template_message(UTILITY_TEMPLATE))
        marketing_inside = await send(client, template_message())
        prices = [
            await priced(hook, wamid)
            for wamid in (
                utility_outside,
                marketing_outside,
                free_form,
                utility_inside,
                marketing_inside,
            )
        ]

    assert prices == [
        pricing(True, "regular", "utility"),
        pricing(True, "regular", "marketing"),
        pricing(False, "free_customer_service", "service"),
        pricing(False, "free_customer_service", "utility"),
        pricing(True, "regular", "marketing"),
    ]


async def test_every_status_of_a_message_carries_the_same_price() -> None:
    async with (
        receiver() as hook,
        emulator(webhook_url=hook.url, read_delay=0.03, **POLICY) as client,
    ):
        wamid = await send(client, template_message())
        await wait_until(lambda: len(statuses_for(hook, wamid)) == 3)

    prices = [status["pricing"] for status in statuses_for(hook, wamid)]
    assert prices == [pricing(True, "regular", "marketing")] * 3


async def test_a_failed_status_echoes_the_callback_data() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url, **POLICY) as client:
        wamid = await send(client, text_message(biz_opaque_callback_data="post:7"))
        failed = await outcome(hook, wamid)

    assert failed["status"] == "failed"
    assert failed["biz_opaque_callback_data"] == "post:7"


# --- reactions ----------------------------------------------------------------------------------


async def test_a_reaction_is_only_reported_sent() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url, read_delay=0.03) as client:
        written = await client.post(
            f"/_emulator/users/{CITIZEN}/send", json={"type": "text", "text": "Danke!"}
        )
        reaction = await send(
            client,
            {
                "messaging_product": "whatsapp",
                "to": CITIZEN,
                "type": "reaction",
                "reaction": {"message_id": written.json()["id"], "emoji": "👍"},
            },
        )
        text = await send(client, text_message())
        await wait_until(lambda: len(statuses_for(hook, text)) == 3)
        await client.post(f"/_emulator/users/{CITIZEN}/read")
        log = await get_when(client, "/_emulator/webhooks", lambda log: log["pending"] == 0)

    assert [s["status"] for s in statuses_for(hook, reaction)] == ["sent"]
    assert [a["detail"] for a in log["attempts"] if a["message_id"] == reaction] == ["sent"]


# --- delivered left out when read follows at once ---------------------------------------------


async def test_delivered_is_left_out_when_read_follows_at_once() -> None:
    config = {"read_delay": 0.03, "skip_delivered_probability": 1.0}
    async with receiver() as hook, emulator(webhook_url=hook.url, **config) as client:
        wamid = await send(client, text_message())
        await wait_until(lambda: any(s["status"] == "read" for s in statuses_for(hook, wamid)))
        chat = (await client.get(f"/_emulator/users/{CITIZEN}/messages")).json()

    assert [s["status"] for s in statuses_for(hook, wamid)] == ["sent", "read"]
    assert chat["messages"][0]["status"] == "read"


async def test_delivered_stays_when_read_comes_much_later() -> None:
    config = {"read_delay": 0.05, "skip_delivered_probability": 1.0, "skip_delivered_within": 0.01}
    async with receiver() as hook, emulator(webhook_url=hook.url, **config) as client:
        wamid = await send(client, text_message())
        await wait_until(lambda: len(statuses_for(hook, wamid)) == 3)

    assert [s["status"] for s in statuses_for(hook, wamid)] == ["sent", "delivered", "read"]


async def test_a_chat_opened_before_delivery_may_skip_delivered() -> None:
    config = {"delivered_delay": 0.1, "skip_delivered_probability": 1.0}
    async with receiver() as hook, emulator(webhook_url=hook.url, **config) as client:
        wamid = await send(client, text_message())
        await client.post(f"/_emulator/users/{CITIZEN}/read")
        await wait_until(lambda: any(s["status"] == "read" for s in statuses_for(hook, wamid)))

    assert [s["status"] for s in statuses_for(hook, wamid)] == ["sent", "read"]


async def test_a_seed_makes_skipped_deliveries_repeatable() -> None:
    async def skipped(seed: int) -> list[bool]:
        config = {"read_delay": 0.03, "skip_delivered_probability": 0.5, "seed": seed}
        async with receiver() as hook, emulator(webhook_url=hook.url, **config) as client:
            wamids = [await send(client, text_message(f"Nr. {n}")) for n in range(12)]
            await wait_until(
                lambda: all(
                    any(s["status"] == "read" for s in statuses_for(hook, w)) for w in wamids
                )
            )
        return ["delivered" not in [s["status"] for s in statuses_for(hook, w)] for w in wamids]

    first, again, other = await skipped(3), await skipped(3), await skipped(4)

    assert first == again
    assert any(first) and not all(first)
    assert other != first


# --- business-scoped user ids -----------------------------------------------------------------


async def test_without_bsuid_no_user_id_fields_appear() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url) as client:
        await citizen_writes(client)
        await send(client, text_message())
        await wait_until(lambda: len(hook.statuses) == 2)

    for received in hook.delivered:
        assert b"user_id" not in received.body


async def test_bsuid_fields_follow_the_fixtures() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url, bsuid=True) as client:
        await citizen_writes(client)
        wamid = await send(client, text_message())
        await client.post(f"/_emulator/users/{CITIZEN}/marketing", json={"stopped": True})
        await wait_until(lambda: len(hook.delivered) == 4)

    values = [received.value() for received in hook.delivered]
    [inbound] = [value for value in values if "messages" in value]
    [sent, delivered] = [value for value in values if "statuses" in value]
    [preference] = [value for value in values if "user_preferences" in value]
    [contact] = inbound["contacts"]
    expected_contact = fixture("message.json", "text")["entry"][0]["changes"][0]["value"][
        "contacts"
    ][0]
    assert list(contact) == list(expected_contact)
    assert contact["user_id"].startswith("DE.")
    assert contact["parent_user_id"].startswith("DE.ENT.")
    [message] = inbound["messages"]
    assert list(message)[:3] == ["from", "from_user_id", "id"]
    assert message["from_user_id"] == contact["user_id"]

    expected_status = fixture("message_status.json", "sent")["entry"][0]["changes"][0]["value"]
    for status_value in (sent, delivered):
        assert list(status_value) == list(expected_status)
        assert status_value["contacts"] == [contact]
        assert status_value["statuses"][0]["id"] == wamid
    assert preference["contacts"] == [contact]


async def test_bsuids_are_stable_per_citizen_and_differ_between_citizens() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url, bsuid=True) as client:
        await citizen_writes(client)
        await citizen_writes(client)
        await citizen_writes(client, "491709876543")
        await wait_until(lambda: len(hook.delivered) == 3)

    ids: dict[str, set[str]] = {}
    for received in hook.delivered:
        [contact] = received.value()["contacts"]
        ids.setdefault(contact["wa_id"], set()).add(contact["user_id"])
    [first] = ids[CITIZEN]
    [second] = ids["491709876543"]
    assert first != second
    assert first.split(".")[1].isdigit()


async def test_the_user_preferences_webhook_has_the_fixture_shape() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url) as client:
        await citizen_writes(client)
        await client.post(
            f"/_emulator/users/{CITIZEN}/properties", json={"marketing_stopped": True}
        )
        await wait_until(lambda: len(hook.delivered) == 2)

    payload = hook.delivered[1].json()
    expected = fixture("user_marketing_preferences.json", "resume")
    assert payload["object"] == expected["object"]
    [entry] = payload["entry"]
    assert entry["id"] == BUSINESS_ACCOUNT_ID
    [change] = entry["changes"]
    assert change["field"] == "user_preferences"
    value = change["value"]
    expected_value = expected["entry"][0]["changes"][0]["value"]
    assert list(value) == list(expected_value)
    [preference] = value["user_preferences"]
    assert list(preference) == list(expected_value["user_preferences"][0])
    assert preference["value"] == "stop"
    assert preference["detail"] == "User requested to stop receiving marketing messages"
    assert isinstance(preference["timestamp"], int)
    assert value["contacts"] == [{"profile": {"name": "Testperson 4567"}, "wa_id": CITIZEN}]
