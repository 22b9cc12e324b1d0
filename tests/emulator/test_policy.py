"""Meta's policy per citizen: window, reachability, marketing opt-out and caps, tier, pair rate.

Policy failures are accepted first (200 and a wamid) and fail later with a ``failed`` status;
only the pair rate limit answers at once.
"""

from __future__ import annotations

import pytest

from .inbound_support import fixture, shape
from .policy_support import (
    DAY,
    MARKETING_TEMPLATE,
    POLICY,
    UTILITY_TEMPLATE,
    advance,
    citizen_writes,
    create_utility_template,
    error_code,
    outcome,
    set_properties,
    statuses_for,
    template_message,
)
from .support import (
    AUTH,
    CITIZEN,
    SEND_PATH,
    emulator,
    error_of,
    get_when,
    receiver,
    send,
    text_message,
    wait_until,
)

pytestmark = pytest.mark.anyio

OTHER = "491709876543"


# --- the 24-hour customer service window -------------------------------------------------


async def test_a_free_form_message_inside_the_window_is_delivered() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url, **POLICY) as client:
        await citizen_writes(client)
        wamid = await send(client, text_message())
        await wait_until(lambda: len(statuses_for(hook, wamid)) == 2)

    assert [s["status"] for s in statuses_for(hook, wamid)] == ["sent", "delivered"]


async def test_a_free_form_message_to_a_citizen_who_never_wrote_fails_with_131047() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url, **POLICY) as client:
        response = await client.post(SEND_PATH, json=text_message(), headers=AUTH)
        wamid = response.json()["messages"][0]["id"]
        failed = await outcome(hook, wamid)
        chat = (await client.get(f"/_emulator/users/{CITIZEN}/messages")).json()
        users = (await client.get("/_emulator/users")).json()["users"]

    assert response.status_code == 200
    assert failed["status"] == "failed"
    assert failed["recipient_id"] == CITIZEN
    assert "pricing" not in failed
    [error] = failed["errors"]
    assert error["code"] == 131047
    assert error["title"] == error["message"] == "Re-engagement message"
    assert "24 hours" in error["error_data"]["details"]
    assert error["href"].startswith("https://developers.facebook.com/")
    assert chat["messages"][0]["status"] == "failed"
    assert users[0]["unread"] == 0


async def test_a_failed_status_has_the_shape_of_metas_failed_status() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url, **POLICY) as client:
        wamid = await send(client, text_message())
        failed = await outcome(hook, wamid)

    expected = fixture("message_status.json", "failed")["entry"][0]["changes"][0]["value"]
    assert shape(failed) == shape(expected["statuses"][0])
    [received] = hook.delivered
    value = received.value()
    assert set(value) == {"messaging_product", "metadata", "statuses"}


async def test_the_window_closes_24_hours_after_the_citizens_last_message() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url, **POLICY) as client:
        await citizen_writes(client)
        await advance(client, DAY - 1)
        last_second = await send(client, text_message("noch offen"))
        await advance(client, 1)
        closed = await send(client, text_message("zu spät"))
        codes = [await error_code(hook, last_second), await error_code(hook, closed)]

    assert codes == [None, 131047]


async def test_a_new_message_from_the_citizen_reopens_the_window() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url, **POLICY) as client:
        await citizen_writes(client)
        await advance(client, 2 * DAY)
        await citizen_writes(client)
        wamid = await send(client, text_message())
        properties = (await client.get(f"/_emulator/users/{CITIZEN}/properties")).json()

        assert await error_code(hook, wamid) is None
    assert properties["window_open"] is True
    assert properties["last_inbound_at"] == POLICY["frozen_time"] + 2 * DAY
    assert properties["window_closes_at"] == POLICY["frozen_time"] + 3 * DAY


async def test_templates_need_no_open_window() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url, **POLICY) as client:
        wamid = await send(client, template_message())

        assert await error_code(hook, wamid) is None


async def test_a_window_of_zero_lets_every_free_form_message_through() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url, service_window=0.0) as client:
        wamid = await send(client, text_message())

        assert await error_code(hook, wamid) is None


# --- citizens who cannot be reached --------------------------------------------------------


@pytest.mark.parametrize("reason", ["on_whatsapp", "blocked"])
async def test_a_citizen_without_whatsapp_or_who_blocked_the_business_gets_131026(
    reason: str,
) -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url, **POLICY) as client:
        await citizen_writes(client)
        await set_properties(client, CITIZEN, **{reason: reason != "on_whatsapp"})
        text = await send(client, text_message())
        template = await send(client, template_message())
        codes = [await error_code(hook, text), await error_code(hook, template)]
        failed = await outcome(hook, text)

    assert codes == [131026, 131026]
    assert failed["errors"][0]["title"] == "Receiver is incapable of receiving this message"
    assert failed["errors"][0]["error_data"] == {"details": "Message Undeliverable."}


async def test_a_citizen_back_on_whatsapp_gets_messages_again() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url, **POLICY) as client:
        await set_properties(client, CITIZEN, on_whatsapp=False)
        await set_properties(client, CITIZEN, on_whatsapp=True)
        wamid = await send(client, template_message())

        assert await error_code(hook, wamid) is None


# --- marketing: opt-out and caps -------------------------------------------------------------


async def test_after_a_marketing_stop_marketing_templates_fail_with_131050() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url, **POLICY) as client:
        await citizen_writes(client)
        await create_utility_template(client)
        await set_properties(client, CITIZEN, marketing_stopped=True)
        marketing = await send(client, template_message(MARKETING_TEMPLATE))
        utility = await send(client, template_message(UTILITY_TEMPLATE))
        free_form = await send(client, text_message())
        codes = [
            await error_code(hook, marketing),
            await error_code(hook, utility),
            await error_code(hook, free_form),
        ]
        failed = await outcome(hook, marketing)

    assert codes == [131050, None, None]
    assert "stop receiving marketing messages" in failed["errors"][0]["title"]


async def test_a_citizen_who_resumes_marketing_gets_marketing_templates_again() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url, **POLICY) as client:
        await set_properties(client, CITIZEN, marketing_stopped=True)
        await set_properties(client, CITIZEN, marketing_stopped=False)
        wamid = await send(client, template_message())

        assert await error_code(hook, wamid) is None


async def test_the_marketing_cap_fails_further_marketing_templates_for_24_hours() -> None:
    config = {**POLICY, "marketing_cap": 2}
    async with receiver() as hook, emulator(webhook_url=hook.url, **config) as client:
        await create_utility_template(client)
        first = await send(client, template_message())
        await advance(client, 3600)
        second = await send(client, template_message())
        capped = await send(client, template_message())
        utility = await send(client, template_message(UTILITY_TEMPLATE))
        other_citizen = await send(client, template_message(to=OTHER))
        await advance(client, DAY - 3600)
        after_first_expired = await send(client, template_message())
        codes = [
            await error_code(hook, wamid)
            for wamid in (first, second, capped, utility, other_citizen, after_first_expired)
        ]
        failed = await outcome(hook, capped)

    assert codes == [None, None, 131049, None, None, None]
    assert "healthy ecosystem engagement" in failed["errors"][0]["title"]


async def test_a_citizen_marked_as_capped_gets_131049_for_marketing_only() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url, **POLICY) as client:
        await create_utility_template(client)
        await set_properties(client, CITIZEN, marketing_cap_reached=True)
        marketing = await send(client, template_message())
        utility = await send(client, template_message(UTILITY_TEMPLATE))
        codes = [await error_code(hook, marketing), await error_code(hook, utility)]

    assert codes == [131049, None]


async def test_failed_marketing_templates_do_not_count_against_the_cap() -> None:
    config = {**POLICY, "marketing_cap": 1}
    async with receiver() as hook, emulator(webhook_url=hook.url, **config) as client:
        await set_properties(client, CITIZEN, on_whatsapp=False)
        undeliverable = await send(client, template_message())
        await set_properties(client, CITIZEN, on_whatsapp=True)
        delivered = await send(client, template_message())
        codes = [await error_code(hook, undeliverable), await error_code(hook, delivered)]
        properties = (await client.get(f"/_emulator/users/{CITIZEN}/properties")).json()

    assert codes == [131026, None]
    assert properties["marketing_received_24h"] == 1


# --- the messaging limit (unique users outside a window per rolling 24 hours) -----------------


async def test_templates_to_more_new_citizens_than_the_limit_fail_with_131048() -> None:
    config = {**POLICY, "messaging_limit": 2}
    citizens = ["491700000001", "491700000002", "491700000003"]
    async with receiver() as hook, emulator(webhook_url=hook.url, **config) as client:
        reached = [await send(client, template_message(to=wa_id)) for wa_id in citizens]
        again = await send(client, template_message(to=citizens[0]))
        await citizen_writes(client, citizens[2])
        inside_window = await send(client, template_message(to=citizens[2]))
        codes = [await error_code(hook, wamid) for wamid in [*reached, again, inside_window]]
        failed = await outcome(hook, reached[2])

    assert codes == [None, None, 131048, None, None]
    error = failed["errors"][0]
    assert error["title"] == "Spam rate limit hit"
    assert "messaging limit of 2 unique users" in error["error_data"]["details"]


async def test_the_messaging_limit_rolls_over_after_24_hours() -> None:
    config = {**POLICY, "messaging_limit": 1}
    async with receiver() as hook, emulator(webhook_url=hook.url, **config) as client:
        first = await send(client, template_message(to="491700000001"))
        refused = await send(client, template_message(to="491700000002"))
        await advance(client, DAY)
        later = await send(client, template_message(to="491700000002"))
        codes = [await error_code(hook, wamid) for wamid in (first, refused, later)]

    assert codes == [None, 131048, None]


async def test_a_messaging_limit_of_zero_is_unlimited() -> None:
    config = {**POLICY, "messaging_limit": 0}
    async with receiver() as hook, emulator(webhook_url=hook.url, **config) as client:
        wamids = [await send(client, template_message(to=f"4917000000{n:02d}")) for n in range(30)]
        codes = {await error_code(hook, wamid) for wamid in wamids}

    assert codes == {None}


# --- the pair rate limit (synchronous 131056) ---------------------------------------------------


async def test_a_burst_beyond_the_pair_limit_gets_131056_at_once() -> None:
    config = {**POLICY, "service_window": 0.0, "pair_rate_burst": 5}
    async with emulator(**config) as client:
        answers = [
            await client.post(SEND_PATH, json=text_message(), headers=AUTH) for _ in range(7)
        ]
        other = await client.post(SEND_PATH, json=text_message(to=OTHER), headers=AUTH)
        log = (await client.get("/_emulator/messages")).json()["messages"]

    assert [answer.status_code for answer in answers] == [200] * 5 + [400] * 2
    error = error_of(answers[5])
    assert error["code"] == 131056
    assert error["message"] == "(#131056) (Business Account, Consumer Account) pair rate limit hit"
    assert "same phone number" in error["error_data"]["details"]
    assert other.status_code == 200
    assert len(log) == 6


async def test_the_pair_limit_refills_one_message_per_interval() -> None:
    config = {**POLICY, "service_window": 0.0, "pair_rate_burst": 2, "pair_rate_interval": 6.0}
    async with emulator(**config) as client:

        async def status() -> int:
            return (await client.post(SEND_PATH, json=text_message(), headers=AUTH)).status_code

        burst = [await status(), await status(), await status()]
        await advance(client, 5.9)
        too_early = await status()
        await advance(client, 0.1)
        refilled = [await status(), await status()]
        await advance(client, 600)
        full_again = [await status(), await status(), await status()]

    assert burst == [200, 200, 400]
    assert too_early == 400
    assert refilled == [200, 400]
    assert full_again == [200, 200, 400]


async def test_a_pair_burst_of_zero_switches_the_limit_off() -> None:
    async with emulator(**POLICY, pair_rate_burst=0) as client:
        await citizen_writes(client)
        answers = [
            await client.post(SEND_PATH, json=text_message(), headers=AUTH) for _ in range(60)
        ]

    assert {answer.status_code for answer in answers} == {200}


async def test_unauthorized_and_invalid_sends_do_not_use_up_the_pair_limit() -> None:
    config = {**POLICY, "service_window": 0.0, "pair_rate_burst": 1}
    async with emulator(**config) as client:
        unauthorized = await client.post(
            SEND_PATH, json=text_message(), headers={"Authorization": "Bearer wrong"}
        )
        invalid = await client.post(SEND_PATH, json=text_message(body=""), headers=AUTH)
        valid = await client.post(SEND_PATH, json=text_message(), headers=AUTH)

    assert (unauthorized.status_code, invalid.status_code, valid.status_code) == (401, 400, 200)


# --- the properties route -----------------------------------------------------------------------


async def test_properties_are_shown_without_creating_the_citizen() -> None:
    async with emulator(**POLICY) as client:
        properties = (await client.get(f"/_emulator/users/{CITIZEN}/properties")).json()
        users = (await client.get("/_emulator/users")).json()["users"]

    assert properties == {
        "wa_id": CITIZEN,
        "on_whatsapp": True,
        "blocked": False,
        "marketing_stopped": False,
        "marketing_cap_reached": False,
        "last_inbound_at": None,
        "window_open": False,
        "window_closes_at": None,
        "marketing_received_24h": 0,
    }
    assert users == []


async def test_setting_properties_answers_with_all_of_them() -> None:
    async with emulator(**POLICY) as client:
        response = await client.post(
            f"/_emulator/users/{CITIZEN}/properties",
            json={"on_whatsapp": False, "blocked": True, "marketing_cap_reached": True},
        )

    assert response.status_code == 200
    answer = response.json()
    assert (answer["on_whatsapp"], answer["blocked"], answer["marketing_cap_reached"]) == (
        False,
        True,
        True,
    )
    assert answer["marketing_stopped"] is False


@pytest.mark.parametrize(
    ("path", "body", "complaint"),
    [
        (f"/_emulator/users/{CITIZEN}/properties", {"on_whatsap": False}, "unknown field"),
        (f"/_emulator/users/{CITIZEN}/properties", {"blocked": "yes"}, "true or false"),
        (f"/_emulator/users/{CITIZEN}/properties", {"blocked": 1}, "true or false"),
        (f"/_emulator/users/{CITIZEN}/properties", {"blocked": None}, "true or false"),
        (f"/_emulator/users/{CITIZEN}/properties", [True], "JSON object"),
        ("/_emulator/users/+49170/properties", {"blocked": True}, "digits"),
        ("/_emulator/users/123/properties", {"blocked": True}, "digits"),
    ],
)
async def test_wrong_properties_are_refused_and_change_nothing(
    path: str, body: object, complaint: str
) -> None:
    async with emulator(**POLICY) as client:
        response = await client.post(path, json=body)
        properties = (await client.get(f"/_emulator/users/{CITIZEN}/properties")).json()

    assert response.status_code == 400
    assert complaint in response.json()["error"]
    assert properties["blocked"] is False


async def test_stopping_marketing_through_properties_sends_the_webhook_once() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url, **POLICY) as client:
        await set_properties(client, CITIZEN, marketing_stopped=True)
        await set_properties(client, CITIZEN, marketing_stopped=True)
        await set_properties(client, CITIZEN, marketing_stopped=False)
        await wait_until(lambda: len(hook.delivered) == 2)
        log = await get_when(client, "/_emulator/webhooks", lambda log: log["pending"] == 0)

    values = [r.value()["user_preferences"][0]["value"] for r in hook.delivered]
    assert values == ["stop", "resume"]
    assert [(a["kind"], a["detail"]) for a in log["attempts"]] == [
        ("user_preferences", "stop"),
        ("user_preferences", "resume"),
    ]
