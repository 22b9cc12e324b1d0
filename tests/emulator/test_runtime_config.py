"""Policy, timeline and delivery settings: from the environment, and patched while running."""

from __future__ import annotations

from typing import Any

import pytest

from whatsapp_emulator.config import ConfigError, EmulatorConfig

from .policy_support import POLICY, citizen_writes, error_code
from .support import AUTH, SEND_PATH, emulator, receiver, send, text_message

ENVIRONMENT = {
    "WHATSAPP_ACCESS_TOKEN": "token",
    "WHATSAPP_APP_SECRET": "secret",
    "WHATSAPP_PHONE_NUMBER_ID": "100000000000001",
    "WHATSAPP_BUSINESS_ACCOUNT_ID": "200000000000001",
    "WHATSAPP_VERIFY_TOKEN": "verify",
}


def test_the_defaults_follow_meta() -> None:
    config = EmulatorConfig.from_env(ENVIRONMENT)

    assert config.service_window == 86400.0
    assert (config.pair_rate_interval, config.pair_rate_burst) == (6.0, 45)
    assert config.messaging_limit == 250
    assert config.marketing_cap == 0
    assert config.frozen_time is None
    # Meta has sent business-scoped user ids since April 2026 (contract 2.9).
    assert (config.skip_delivered_probability, config.bsuid, config.seed) == (0.0, True, None)
    assert (config.webhook_concurrency, config.webhook_batch_size) == (4, 1)
    assert (config.webhook_duplicate_probability, config.webhook_reorder_window) == (0.0, 0)


def test_every_policy_and_delivery_setting_has_a_variable() -> None:
    config = EmulatorConfig.from_env(
        {
            **ENVIRONMENT,
            "EMULATOR_FROZEN_TIME": "1780000000",
            "EMULATOR_SERVICE_WINDOW": "0",
            "EMULATOR_PAIR_RATE_INTERVAL": "1.5",
            "EMULATOR_PAIR_RATE_BURST": "0",
            "EMULATOR_MESSAGING_LIMIT": "2000",
            "EMULATOR_MARKETING_CAP": "2",
            "EMULATOR_SKIP_DELIVERED_PROBABILITY": "0.5",
            "EMULATOR_SKIP_DELIVERED_WITHIN": "2",
            "EMULATOR_BSUID": "yes",
            "EMULATOR_SEED": "7",
            "EMULATOR_WEBHOOK_CONCURRENCY": "8",
            "EMULATOR_WEBHOOK_BATCH_SIZE": "10",
            "EMULATOR_WEBHOOK_DUPLICATE_PROBABILITY": "0.1",
            "EMULATOR_WEBHOOK_REORDER_WINDOW": "5",
            "EMULATOR_WEBHOOK_REORDER_HOLD": "0.2",
            "EMULATOR_WEBHOOK_LOG_LIMIT": "100",
        }
    )

    assert config.frozen_time == 1_780_000_000.0
    assert (config.service_window, config.pair_rate_interval, config.pair_rate_burst) == (
        0.0,
        1.5,
        0,
    )
    assert (config.messaging_limit, config.marketing_cap) == (2000, 2)
    assert (config.skip_delivered_probability, config.skip_delivered_within) == (0.5, 2.0)
    assert (config.bsuid, config.seed) == (True, 7)
    assert (config.webhook_concurrency, config.webhook_batch_size) == (8, 10)
    assert (config.webhook_duplicate_probability, config.webhook_reorder_window) == (0.1, 5)
    assert (config.webhook_reorder_hold, config.webhook_log_limit) == (0.2, 100)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("EMULATOR_BSUID", "maybe"),
        ("EMULATOR_PAIR_RATE_BURST", "-1"),
        ("EMULATOR_PAIR_RATE_INTERVAL", "0"),
        ("EMULATOR_MESSAGING_LIMIT", "many"),
        ("EMULATOR_SKIP_DELIVERED_PROBABILITY", "1.5"),
        ("EMULATOR_WEBHOOK_DUPLICATE_PROBABILITY", "-0.1"),
        ("EMULATOR_WEBHOOK_CONCURRENCY", "0"),
        ("EMULATOR_WEBHOOK_BATCH_SIZE", "100000"),
        ("EMULATOR_SERVICE_WINDOW", "-1"),
        ("EMULATOR_SERVICE_WINDOW", "inf"),
        ("EMULATOR_FROZEN_TIME", "-5"),
    ],
)
def test_a_wrong_value_names_its_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        EmulatorConfig.from_env({**ENVIRONMENT, variable: value})


@pytest.mark.anyio
async def test_the_config_route_shows_the_settings_that_can_change() -> None:
    async with emulator(**POLICY) as client:
        config = (await client.get("/_emulator/config")).json()["config"]

    assert config["service_window"] == 86400.0
    assert config["pair_rate_burst"] == 0
    assert config["messaging_limit"] == 250
    assert config["webhook_url"] is None
    for secret in ("access_token", "app_secret", "verify_token", "phone_number_id"):
        assert secret not in config


@pytest.mark.anyio
async def test_a_patch_applies_to_the_next_send() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url, **POLICY) as client:
        before = await send(client, text_message())
        patched = await client.post("/_emulator/config", json={"service_window": 0})
        after = await send(client, text_message())
        codes = [await error_code(hook, before), await error_code(hook, after)]

    assert patched.status_code == 200
    assert patched.json()["config"]["service_window"] == 0.0
    assert codes == [131047, None]


@pytest.mark.anyio
async def test_the_pair_limit_and_throughput_can_be_switched_on_while_running() -> None:
    async with emulator(**POLICY) as client:
        await citizen_writes(client)
        await client.post(
            "/_emulator/config", json={"pair_rate_burst": 1, "pair_rate_interval": 60}
        )
        pair = [await client.post(SEND_PATH, json=text_message(), headers=AUTH) for _ in range(2)]
        await client.post(
            "/_emulator/config", json={"pair_rate_burst": 0, "messages_per_second": 1}
        )
        throughput = [
            await client.post(SEND_PATH, json=text_message(), headers=AUTH) for _ in range(3)
        ]

    assert [r.status_code for r in pair] == [200, 400]
    assert pair[1].json()["error"]["code"] == 131056
    assert throughput[0].status_code == 200
    assert {r.json()["error"]["code"] for r in throughput[1:]} == {130429}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("patch", "complaint"),
    [
        ({}, "empty"),
        ({"service_windw": 5}, "unknown setting"),
        ({"app_secret": "x"}, "fixed"),
        ({"frozen_time": 5}, "fixed"),
        ({"phone_number_id": "1"}, "fixed"),
        ({"service_window": "1 day"}, "service_window must be a number"),
        ({"service_window": True}, "service_window must be a number"),
        ({"service_window": None}, "cannot be null"),
        ({"service_window": -1}, "service_window"),
        ({"pair_rate_burst": 1.5}, "pair_rate_burst must be a whole number"),
        ({"messaging_limit": -3}, "messaging_limit"),
        ({"bsuid": 1}, "bsuid must be true or false"),
        ({"skip_delivered_probability": 2}, "probability"),
        ({"webhook_url": "ftp://example"}, "webhook_url"),
        ({"webhook_concurrency": 0}, "webhook_concurrency"),
    ],
)
async def test_a_wrong_patch_is_refused_and_changes_nothing(
    patch: dict[str, Any], complaint: str
) -> None:
    async with emulator(**POLICY) as client:
        before = (await client.get("/_emulator/config")).json()
        response = await client.post("/_emulator/config", json=patch)
        after = (await client.get("/_emulator/config")).json()

    assert response.status_code == 400
    assert complaint in response.json()["error"]
    assert after == before


@pytest.mark.anyio
async def test_a_patch_with_a_repeated_key_an_infinite_number_or_an_oversized_body_is_refused() -> (
    None
):
    async with emulator(**POLICY) as client:
        repeated = await client.post(
            "/_emulator/config", content=b'{"marketing_cap": 1, "marketing_cap": 2}'
        )
        infinite = await client.post("/_emulator/config", content=b'{"service_window": 1e400}')
        oversized = await client.post(
            "/_emulator/config",
            content=b'{"marketing_cap": 1}' + b" " * 70_000,
            headers={"Content-Type": "application/json"},
        )
        config = (await client.get("/_emulator/config")).json()["config"]

    assert (repeated.status_code, infinite.status_code, oversized.status_code) == (400, 400, 413)
    assert config["marketing_cap"] == 0


@pytest.mark.anyio
async def test_reset_restores_the_configuration_of_the_start() -> None:
    async with emulator(**POLICY) as client:
        await client.post("/_emulator/config", json={"marketing_cap": 3, "bsuid": True})
        await client.post("/_emulator/reset")
        config = (await client.get("/_emulator/config")).json()["config"]

    assert (config["marketing_cap"], config["bsuid"]) == (0, False)
