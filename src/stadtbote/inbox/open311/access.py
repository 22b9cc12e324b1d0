"""Who may read and create service requests: holders of the installation's API tokens
(accounts/tokens.py), given as Open311's `api_key` parameter.

Reading requests needs a key although GeoReport allows public reads: a concern's
description is what a citizen wrote, often with a name or a house number in it, so it is
personal data and goes only to systems the city has issued a key to. The token's account
needs `inbox.view_concern` to read and `inbox.add_concern` to create; a read-only token
cannot create. Every refusal is a 403, as the spec says for api_key problems.

`Authorization: Bearer <token>` is taken too, for clients that can keep the key out of URLs
(and so out of web server logs).
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest, QueryDict

from stadtbote.accounts.tokens import token_for
from stadtbote.inbox.open311.parsing import Refused

READ = "inbox.view_concern"
CREATE = "inbox.add_concern"


def _given_key(request: HttpRequest, params: QueryDict) -> str:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header.removeprefix("Bearer ").strip()
    return params.get("api_key", "").strip() or request.GET.get("api_key", "").strip()


def key_holder(request: HttpRequest, params: QueryDict, permission: str) -> User:
    raw = _given_key(request, params)
    if not raw:
        raise Refused(403, "api_key was not provided.")
    token = token_for(raw)
    if token is None:
        raise Refused(403, "Invalid api_key.")
    if permission != READ and token.read_only:
        raise Refused(403, "This api_key may only read.")
    if not token.user.has_perm(permission):
        action = "read" if permission == READ else "create"
        raise Refused(403, f"This api_key may not {action} service requests.")
    return token.user
