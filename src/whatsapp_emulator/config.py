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

    # The clock (clock.py). None: real time. A Unix time: the clock stands still there and
    # moves only when advanced through the control API, which makes windows and rate limits
    # fully deterministic in tests.
    frozen_time: float | None = None

    # Policy per simulated user (policy.py); each limit has a value that switches it off.
    # Customer service window in seconds after the user's last message (Meta: 24 h); 0: every
    # user always counts as inside a window.
    service_window: float = 86400.0
    # Pair rate limit: on average one message per interval to the same user, bursts of up to
    # pair_rate_burst borrow from later (contract 3.3); burst 0 switches it off.
    pair_rate_interval: float = 6.0
    pair_rate_burst: int = 45
    # Unique users reached outside a window per rolling 24 h: Meta's tier of a new business
    # portfolio (contract 3.2); 0: unlimited.
    messaging_limit: int = 250
    # Marketing templates one user may get from this business per rolling 24 h before 131049
    # (contract 3.7; Meta's cap is adaptive, so it is off by default); 0: off.
    marketing_cap: int = 0

    # Status timeline: the chance that ``delivered`` is left out when ``read`` follows within
    # skip_delivered_within seconds, as Meta does when both happen at once.
    skip_delivered_probability: float = 0.0
    skip_delivered_within: float = 1.0
    # Business-scoped user ids (user_id, parent_user_id, from_user_id) in webhooks (2.9).
    bsuid: bool = True
    # Seeds every random choice (skipped deliveries, duplicates, reordering); None: random.
    seed: int | None = None

    # Webhook sender (webhooks.py): POSTs in flight at once; events per POST; the chance that
    # a delivered body is sent again; shuffling groups of up to N events held back at most
    # webhook_reorder_hold seconds (0 or 1: no reordering); delivery log entries kept.
    webhook_concurrency: int = 4
    webhook_batch_size: int = 1
    webhook_duplicate_probability: float = 0.0
    webhook_reorder_window: int = 0
    webhook_reorder_hold: float = 0.05
    webhook_log_limit: int = 10_000

    # Templates (templates.py): created templates are approved at once, with the status
    # webhook Meta sends; False leaves them PENDING until the control API sets a status.
    auto_approve_templates: bool = True
    # Bytes of media (uploads and citizens' files) kept in memory; the oldest files are
    # dropped first when a new one would go over it.
    media_storage_limit: int = 256 * 1024 * 1024

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
        _check_policy_and_delivery(self)
        if self.media_storage_limit < 1:
            raise ConfigError("media_storage_limit must be at least 1 byte", "media_storage_limit")

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
    "frozen_time": ("EMULATOR_FROZEN_TIME", float),
    "service_window": ("EMULATOR_SERVICE_WINDOW", float),
    "pair_rate_interval": ("EMULATOR_PAIR_RATE_INTERVAL", float),
    "pair_rate_burst": ("EMULATOR_PAIR_RATE_BURST", int),
    "messaging_limit": ("EMULATOR_MESSAGING_LIMIT", int),
    "marketing_cap": ("EMULATOR_MARKETING_CAP", int),
    "skip_delivered_probability": ("EMULATOR_SKIP_DELIVERED_PROBABILITY", float),
    "skip_delivered_within": ("EMULATOR_SKIP_DELIVERED_WITHIN", float),
    "bsuid": ("EMULATOR_BSUID", lambda raw: parse_bool(raw)),
    "seed": ("EMULATOR_SEED", int),
    "webhook_concurrency": ("EMULATOR_WEBHOOK_CONCURRENCY", int),
    "webhook_batch_size": ("EMULATOR_WEBHOOK_BATCH_SIZE", int),
    "webhook_duplicate_probability": ("EMULATOR_WEBHOOK_DUPLICATE_PROBABILITY", float),
    "webhook_reorder_window": ("EMULATOR_WEBHOOK_REORDER_WINDOW", int),
    "webhook_reorder_hold": ("EMULATOR_WEBHOOK_REORDER_HOLD", float),
    "webhook_log_limit": ("EMULATOR_WEBHOOK_LOG_LIMIT", int),
    "auto_approve_templates": ("EMULATOR_AUTO_APPROVE_TEMPLATES", lambda raw: parse_bool(raw)),
    "media_storage_limit": ("EMULATOR_MEDIA_STORAGE_LIMIT", int),
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


def parse_bool(raw: str) -> bool:
    """An environment flag: 1/true/yes/on or 0/false/no/off, in any case."""
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{raw!r} is not a yes/no value")


# Upper bounds that keep a typo from turning into hours of waiting or gigabytes of state.
_COUNT_LIMITS: dict[str, tuple[int, int]] = {
    "pair_rate_burst": (0, 1_000_000),
    "messaging_limit": (0, 1_000_000_000),
    "marketing_cap": (0, 1_000_000),
    "webhook_concurrency": (1, 256),
    "webhook_batch_size": (1, 1000),
    "webhook_reorder_window": (0, 1000),
    "webhook_log_limit": (0, 10_000_000),
}
_PROBABILITIES = ("skip_delivered_probability", "webhook_duplicate_probability")
_DAY = 86400.0


def _check_policy_and_delivery(config: EmulatorConfig) -> None:
    for name, (low, high) in _COUNT_LIMITS.items():
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(f"{name} must be a whole number from {low} to {high}", name)
    for name in _PROBABILITIES:
        value = getattr(config, name)
        if not (isinstance(value, (int, float)) and 0.0 <= value <= 1.0):
            raise ConfigError(f"{name} must be a probability from 0 to 1", name)
    for name in ("service_window", "skip_delivered_within", "webhook_reorder_hold"):
        _check_delay(name, getattr(config, name))
    if config.service_window > 365 * _DAY:
        raise ConfigError("service_window must be at most a year (in seconds)", "service_window")
    if not (math.isfinite(config.pair_rate_interval) and 0 < config.pair_rate_interval <= _DAY):
        raise ConfigError(
            "pair_rate_interval must be more than 0 and at most 86400 seconds",
            "pair_rate_interval",
        )
    if config.webhook_reorder_hold > 60:
        raise ConfigError("webhook_reorder_hold must be at most 60 seconds", "webhook_reorder_hold")
    if config.frozen_time is not None and not (
        math.isfinite(config.frozen_time) and 0 <= config.frozen_time < 2**32
    ):
        raise ConfigError("frozen_time must be a Unix time in seconds", "frozen_time")
    if config.seed is not None and (
        isinstance(config.seed, bool) or not isinstance(config.seed, int)
    ):
        raise ConfigError("seed must be a whole number", "seed")
    if not isinstance(config.bsuid, bool):
        raise ConfigError("bsuid must be true or false", "bsuid")
