"""The sending rules in force: quiet hours, the daily cap per subscriber, the monthly budget.

An administrator sets them in the newsroom (a SendingRules row); until then the environment's
values apply (settings.QUIET_HOURS_START …), so an installation that set them keeps them. The
dispatcher asks for every delivery of a batch, so what was read is kept in this process for
CACHE_SECONDS: a change made elsewhere reaches every worker within that time, a change made in
this process at once (the cache is dropped on save, and when a test overrides a setting)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.signals import setting_changed
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from stadtbote.accounts import audit
from stadtbote.broadcasts.models import SendingRules

CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class Rules:
    quiet_hours_start: str  # "HH:MM"; start == end: no quiet hours
    quiet_hours_end: str
    daily_cap: int  # 0: no cap
    monthly_budget: Decimal  # 0: no budget
    budget_blocks: bool

    @property
    def quiet_hours_off(self) -> bool:
        return self.quiet_hours_start == self.quiet_hours_end


_cached: tuple[float, Rules, bool] | None = None  # (read at, rules, stored in the database)
_ENVIRONMENT = {
    "QUIET_HOURS_START",
    "QUIET_HOURS_END",
    "DAILY_CAP",
    "MONTHLY_BUDGET",
    "BUDGET_BLOCK",
}


def from_environment() -> Rules:
    return Rules(
        quiet_hours_start=settings.QUIET_HOURS_START,
        quiet_hours_end=settings.QUIET_HOURS_END,
        daily_cap=int(settings.DAILY_CAP),
        monthly_budget=Decimal(settings.MONTHLY_BUDGET).quantize(Decimal("0.01")),
        budget_blocks=bool(settings.BUDGET_BLOCK),
    )


def _read() -> tuple[float, Rules, bool]:
    global _cached
    now = time.monotonic()
    if _cached is None or now - _cached[0] > CACHE_SECONDS:
        row = SendingRules.objects.filter(pk=1).first()
        if row is None:
            _cached = (now, from_environment(), False)
        else:
            rules = Rules(
                quiet_hours_start=row.quiet_hours_start,
                quiet_hours_end=row.quiet_hours_end,
                daily_cap=row.daily_cap,
                monthly_budget=row.monthly_budget,
                budget_blocks=row.budget_blocks,
            )
            _cached = (now, rules, True)
    return _cached


def current() -> Rules:
    """The rules in force: the newsroom's, else the environment's. Asked for every delivery
    of a batch, so it is a lookup in this process most of the time."""
    return _read()[1]


def is_stored() -> bool:
    return _read()[2]


def invalidate(**_: Any) -> None:
    global _cached
    _cached = None


def _environment_changed(setting: str = "", **_: Any) -> None:
    if setting in _ENVIRONMENT:  # tests change these through override_settings
        invalidate()


post_save.connect(invalidate, sender=SendingRules, dispatch_uid="sending_rules_cache")
post_delete.connect(invalidate, sender=SendingRules, dispatch_uid="sending_rules_cache_delete")
setting_changed.connect(_environment_changed, dispatch_uid="sending_rules_environment")


def _plain(rules: Rules) -> dict[str, Any]:
    values = asdict(rules)
    values["monthly_budget"] = str(rules.monthly_budget)
    return values


@transaction.atomic
def change(by: AbstractBaseUser, new: Rules) -> Rules:
    """Stores the rules (validated by the model) and records old and new values."""
    old = current()
    row = SendingRules(pk=1, **asdict(new))
    row.full_clean()
    row.save()
    # The cache may have been refilled inside this transaction; drop it once more on commit.
    transaction.on_commit(invalidate)
    before, after = _plain(old), _plain(new)
    changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    audit.record(by, "settings.sending_rules_changed", row, changed=changed)
    return new
