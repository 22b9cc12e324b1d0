"""Settings of one emulated WhatsApp business phone number.

The emulator reads the same ``WHATSAPP_*`` variables as the app, so both sides agree on tokens,
ids and secrets without copying values around. Settings that only the emulator has are read
from ``EMULATOR_*`` variables.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


class ConfigError(ValueError):
    """A setting is missing or invalid; the message names the setting."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, kw_only=True)
class EmulatorConfig:
    """One business phone number as Meta would host it.

    Status delays are measured from the moment a send is accepted, so ``delivered_delay`` is
    the total time until ``delivered``, not the time after ``sent``.
    """

    access_token: str
    app_secret: str
    phone_number_id: str
    business_account_id: str
    verify_token: str
    display_phone_number: str = "4915100000000"
    # Where status and message webhooks go; None keeps them in the delivery log only.
    webhook_url: str | None = None
    # Throughput per phone number like Meta's default tier; 0 switches the limit off.
    messages_per_second: int = 80
    sent_delay: float = 0.05
    delivered_delay: float = 0.2
    # None: a message is read only when the simulated phone opens the chat.
    read_delay: float | None = None
    retry_base_delay: float = 1.0
    retry_max_delay: float = 60.0
    max_attempts: int = 10
    webhook_timeout: float = 10.0

    def __post_init__(self) -> None:
        for name in (
            "access_token",
            "app_secret",
            "phone_number_id",
            "business_account_id",
            "verify_token",
        ):
            if not getattr(self, name).strip():
                raise ConfigError(f"{name} must not be empty", name)
        for name in ("phone_number_id", "business_account_id", "display_phone_number"):
            if not getattr(self, name).isdigit():
                raise ConfigError(f"{name} must consist of digits only", name)
        if self.webhook_url is not None and not self.webhook_url.startswith(
            ("http://", "https://")
        ):
            raise ConfigError("webhook_url must start with http:// or https://", "webhook_url")
        if self.messages_per_second < 0:
            raise ConfigError("messages_per_second must be 0 (off) or more", "messages_per_second")
        if self.max_attempts < 1:
            raise ConfigError("max_attempts must be at least 1", "max_attempts")
        for name in ("sent_delay", "delivered_delay", "retry_base_delay", "retry_max_delay"):
            _check_delay(name, getattr(self, name))
        if self.read_delay is not None:
            _check_delay("read_delay", self.read_delay)
        if not (math.isfinite(self.webhook_timeout) and self.webhook_timeout > 0):
            raise ConfigError("webhook_timeout must be more than 0 seconds", "webhook_timeout")

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> EmulatorConfig:
        """Build the configuration from environment variables.

        Tokens, the secret and the ids have no defaults on purpose: an emulator that silently
        invented them would accept requests the app signs with different values.
        """
        values: dict[str, Any] = {}
        for name, variable in REQUIRED_VARIABLES.items():
            value = environ.get(variable, "").strip()
            if not value:
                raise ConfigError(
                    f"{variable} is not set; the emulator needs the same value as the app", name
                )
            values[name] = value
        for name, (variable, parse) in OPTIONAL_VARIABLES.items():
            raw = environ.get(variable, "").strip()
            if not raw:
                continue
            try:
                values[name] = parse(raw)
            except ValueError:
                raise ConfigError(f"{variable}={raw!r} is not a valid value", name) from None
        try:
            return cls(**values)
        except ConfigError as error:
            source = variable_for(error.field)
            if source is None:
                raise
            raise ConfigError(f"{source}: {error}", error.field) from None

    def replace(self, **changes: Any) -> EmulatorConfig:
        """A copy with some settings changed, validated like a new configuration."""
        return dataclasses.replace(self, **changes)


REQUIRED_VARIABLES: dict[str, str] = {
    "access_token": "WHATSAPP_ACCESS_TOKEN",
    "app_secret": "WHATSAPP_APP_SECRET",
    "phone_number_id": "WHATSAPP_PHONE_NUMBER_ID",
    "business_account_id": "WHATSAPP_BUSINESS_ACCOUNT_ID",
    "verify_token": "WHATSAPP_VERIFY_TOKEN",
}

OPTIONAL_VARIABLES: dict[str, tuple[str, Callable[[str], Any]]] = {
    "messages_per_second": ("WHATSAPP_MESSAGES_PER_SECOND", int),
    "display_phone_number": ("EMULATOR_DISPLAY_PHONE_NUMBER", str),
    "webhook_url": ("EMULATOR_WEBHOOK_URL", str),
    "sent_delay": ("EMULATOR_SENT_DELAY", float),
    "delivered_delay": ("EMULATOR_DELIVERED_DELAY", float),
    "read_delay": ("EMULATOR_READ_DELAY", float),
    "retry_base_delay": ("EMULATOR_RETRY_BASE_DELAY", float),
    "retry_max_delay": ("EMULATOR_RETRY_MAX_DELAY", float),
    "max_attempts": ("EMULATOR_MAX_ATTEMPTS", int),
    "webhook_timeout": ("EMULATOR_WEBHOOK_TIMEOUT", float),
}


def variable_for(field: str | None) -> str | None:
    """The environment variable that sets a configuration field."""
    if field in REQUIRED_VARIABLES:
        return REQUIRED_VARIABLES[field]
    if field in OPTIONAL_VARIABLES:
        return OPTIONAL_VARIABLES[field][0]
    return None


def _check_delay(name: str, value: float) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise ConfigError(f"{name} must be 0 or more seconds", name)
