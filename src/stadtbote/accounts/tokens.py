"""Creating and checking API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from stadtbote.accounts import audit
from stadtbote.accounts.models import ApiToken

PREFIX = "sbt_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User, *, read_only: bool = False) -> str:
    """A token acts with its account's role; a read-only one may only read."""
    token = PREFIX + secrets.token_urlsafe(32)
    created = ApiToken.objects.create(
        user=user, digest=_digest(token), prefix=token[:8], read_only=read_only
    )
    audit.record(None, "api_token.created", created, owner=user.get_username(), read_only=read_only)
    return token


def user_for_token(token: str) -> User | None:
    found = token_for(token)
    return found.user if found is not None else None


def token_for(token: str) -> ApiToken | None:
    """The valid (not revoked, active account) token, with its user loaded."""
    if not token.startswith(PREFIX):
        return None
    found = (
        ApiToken.objects.select_related("user")
        .filter(digest=_digest(token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if found is None:
        return None
    now = timezone.now()
    # Writing on every request would turn reads into writes; a minute's precision is enough.
    if found.last_used_at is None or now - found.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
    return found
