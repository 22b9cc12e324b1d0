from __future__ import annotations

import pytest

from whatsapp_emulator.config import ConfigError, EmulatorConfig

ENVIRONMENT = {
    "WHATSAPP_ACCESS_TOKEN": "token",
    "WHATSAPP_APP_SECRET": "secret",
    "WHATSAPP_PHONE_NUMBER_ID": "100000000000001",
    "WHATSAPP_BUSINESS_ACCOUNT_ID": "200000000000001",
    "WHATSAPP_VERIFY_TOKEN": "verify",
}


def test_it_reads_the_variables_the_app_uses() -> None:
    config = EmulatorConfig.from_env({**ENVIRONMENT, "WHATSAPP_MESSAGES_PER_SECOND": "20"})

    assert config.access_token == "token"
    assert config.app_secret == "secret"
    assert config.phone_number_id == "100000000000001"
    assert config.business_account_id == "200000000000001"
    assert config.verify_token == "verify"
    assert config.messages_per_second == 20


def test_it_has_meta_like_defaults_for_everything_else() -> None:
    config = EmulatorConfig.from_env(ENVIRONMENT)

    assert config.display_phone_number == "4915100000000"
    assert config.webhook_url is None
    assert config.messages_per_second == 80
    assert (config.sent_delay, config.delivered_delay, config.read_delay) == (0.05, 0.2, None)
    assert (config.retry_base_delay, config.retry_max_delay, config.max_attempts) == (1.0, 60.0, 10)


def test_it_reads_emulator_only_settings() -> None:
    config = EmulatorConfig.from_env(
        {
            **ENVIRONMENT,
            "EMULATOR_WEBHOOK_URL": "http://127.0.0.1:8000/whatsapp/webhook",
            "EMULATOR_READ_DELAY": "1.5",
            "EMULATOR_DISPLAY_PHONE_NUMBER": "4930123456",
            "EMULATOR_MAX_ATTEMPTS": "3",
        }
    )

    assert config.webhook_url == "http://127.0.0.1:8000/whatsapp/webhook"
    assert config.read_delay == 1.5
    assert config.display_phone_number == "4930123456"
    assert config.max_attempts == 3


@pytest.mark.parametrize("variable", sorted(ENVIRONMENT))
def test_it_refuses_to_start_without_a_required_variable(variable: str) -> None:
    environment = {name: value for name, value in ENVIRONMENT.items() if name != variable}

    with pytest.raises(ConfigError, match=variable):
        EmulatorConfig.from_env(environment)


def test_it_treats_a_blank_variable_as_missing() -> None:
    with pytest.raises(ConfigError, match="WHATSAPP_APP_SECRET"):
        EmulatorConfig.from_env({**ENVIRONMENT, "WHATSAPP_APP_SECRET": "  "})


def test_it_names_the_variable_of_an_unreadable_number() -> None:
    with pytest.raises(ConfigError, match="EMULATOR_READ_DELAY"):
        EmulatorConfig.from_env({**ENVIRONMENT, "EMULATOR_READ_DELAY": "soon"})


def test_it_names_the_variable_of_an_out_of_range_value() -> None:
    with pytest.raises(ConfigError, match="WHATSAPP_MESSAGES_PER_SECOND"):
        EmulatorConfig.from_env({**ENVIRONMENT, "WHATSAPP_MESSAGES_PER_SECOND": "-1"})


def test_it_rejects_a_webhook_url_that_is_not_http() -> None:
    with pytest.raises(ConfigError, match="EMULATOR_WEBHOOK_URL"):
        EmulatorConfig.from_env({**ENVIRONMENT, "EMULATOR_WEBHOOK_URL": "localhost:8000"})


def test_a_replaced_setting_is_validated_again() -> None:
    config = EmulatorConfig.from_env(ENVIRONMENT)

    assert config.replace(read_delay=2.0).read_delay == 2.0
    with pytest.raises(ConfigError, match="read_delay"):
        config.replace(read_delay=-1.0)
