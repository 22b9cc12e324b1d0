"""Lockout after repeated failed logins, per account name and per client address.

LOCKOUT_FAILURES failed checks (password or second factor) for one name within
LOCKOUT_MINUTES lock that name for the rest of the window, whatever is typed, even the right
password; LOCKOUT_FAILURES_PER_ADDRESS from one address lock the address (someone trying many
names). Failures live in the database, so every web process sees the same count. A
successful login clears its name's failures; the nightly retention job deletes old ones.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from stadtbote.accounts import audit
from stadtbote.accounts.models import LoginFailure


def _window_start(now: datetime) -> datetime:
    return now - timedelta(minutes=settings.LOCKOUT_MINUTES)


def _normal(username: str) -> str:
    return username.strip().casefold()[:150]


def locked_until(username: str, ip: str | None) -> datetime | None:
    """When the lock on this name or address ends, or None if neither is locked."""
    now = timezone.now()
    recent = LoginFailure.objects.filter(at__gte=_window_start(now))
    by_name = recent.filter(username=_normal(username)).order_by("-at")
    by_address = recent.filter(ip=ip).order_by("-at") if ip else recent.none()
    ends: list[datetime] = []
    for failures, limit in (
        (by_name, settings.LOCKOUT_FAILURES),
        (by_address, settings.LOCKOUT_FAILURES_PER_ADDRESS),
    ):
        if limit > 0:
            times = list(failures.values_list("at", flat=True)[:limit])
            if len(times) >= limit:
                ends.append(times[-1] + timedelta(minutes=settings.LOCKOUT_MINUTES))
    return max(ends) if ends else None


def note_failure(username: str, ip: str | None) -> None:
    name = _normal(username)
    LoginFailure.objects.create(username=name, ip=ip)
    if locked_until(username, ip) is not None:
        audit.record(None, "login.locked", username=name)


def clear(username: str) -> None:
    LoginFailure.objects.filter(username=_normal(username)).delete()


def forget_older_than(days: int = 1) -> int:
    cutoff = timezone.now() - timedelta(days=days)
    return LoginFailure.objects.filter(at__lt=cutoff).delete()[0]
