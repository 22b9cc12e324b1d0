"""What the framework does on its own that belongs in the audit log: logins, logouts, failed
logins, and every change made through the admin (settings, staff accounts, roles)."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest

from stadtbote.accounts import audit

_ADMIN_ACTIONS = {ADDITION: "added", CHANGE: "changed", DELETION: "deleted"}


def logged_in(sender: Any, request: HttpRequest, user: AbstractBaseUser, **_: Any) -> None:
    audit.record(user, "login.succeeded")


def logged_out(sender: Any, request: HttpRequest, user: AbstractBaseUser | None, **_: Any) -> None:
    if user is not None:
        audit.record(user, "logout")


def login_failed(sender: Any, credentials: dict[str, Any], **_: Any) -> None:
    # Django has already masked the password; the name typed is what identifies the attempt.
    audit.record(None, "login.failed", username=str(credentials.get("username", ""))[:150])


def admin_change(sender: Any, instance: LogEntry, created: bool, **_: Any) -> None:
    if not created:
        return
    model = instance.content_type.model if instance.content_type else ""
    audit.record(
        instance.user,
        f"admin.{_ADMIN_ACTIONS.get(instance.action_flag, 'changed')}",
        label=instance.object_repr,
        model=model,
        object_id=instance.object_id or "",
        change=instance.get_change_message(),
    )
