"""Password login with lockout, for every way in (the staff login, the admin, tests)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from stadtbote.accounts import audit, lockout


class LockoutBackend(ModelBackend):
    """Django's model backend (Argon2 hashes, inactive accounts refused), which refuses a
    locked name or address before looking at the password and counts failures."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if username is None or password is None:
            return None
        ip = audit.client_ip(request) if request is not None else None
        if lockout.locked_until(username, ip) is not None:
            raise PermissionDenied("locked")  # ends authentication; user_login_failed is sent
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            lockout.note_failure(username, ip)
        return user
