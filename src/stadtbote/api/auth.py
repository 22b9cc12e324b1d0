from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer

from stadtbote.accounts.tokens import token_for

READING = {"GET", "HEAD", "OPTIONS"}


class TokenAuth(HttpBearer):
    """`Authorization: Bearer sbt_…`. The request acts as the token's account, with its
    role's permissions; a read-only token is refused anything but reading."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = token_for(token)
        if found is None:
            return None
        if found.read_only and request.method not in READING:
            raise HttpError(403, "This token may only read.")
        request.user = found.user
        return found.user
