"""The audit log: `record` is called by the actions that change state, wherever they were
started from (the staff web app, the admin, the REST API, a scheduled job).

"From where" comes from the request being served: `AuditMiddleware` puts its client address
and entry point in a context variable for the duration of the request, so actions need no
request parameter. Outside a request (the worker), entries have no address and `via` "system".

Behind a reverse proxy every request comes from the proxy; `STADTBOTE_TRUSTED_PROXY_HOPS`
(default 0) says how many proxies of the operator's own append to `X-Forwarded-For`, and the
address that many entries from its right end is taken. Anything further left was written by
the client and is not trusted.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models
from django.http import HttpRequest, HttpResponse

from stadtbote.accounts.models import AuditEntry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Origin:
    ip: str | None
    via: str


_origin: ContextVar[Origin | None] = ContextVar("audit_origin", default=None)


def client_ip(request: HttpRequest) -> str | None:
    hops = settings.TRUSTED_PROXY_HOPS
    candidate = request.META.get("REMOTE_ADDR")
    if hops > 0:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if len(forwarded) >= hops:
            candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate or ""))
    except ValueError:
        return None


def _entry_point(path: str) -> str:
    if path.startswith(("/api/", "/open311/")):
        return "api"
    if path.startswith("/admin/"):
        return "admin"
    return "web"


class AuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _origin.set(Origin(client_ip(request), _entry_point(request.path)))
        try:
            return self.get_response(request)
        finally:
            _origin.reset(token)


def origin() -> Origin:
    return _origin.get() or Origin(None, "system")


def record(
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    target: models.Model | None = None,
    *,
    label: str | None = None,
    **details: Any,
) -> AuditEntry:
    """Writes one entry. `label` overrides the target's own name (pass "" where the name could
    be personal); `details` must hold no phone number and no message text."""
    where = origin()
    user = actor if actor is not None and actor.is_authenticated else None
    return AuditEntry.objects.create(
        actor_id=user.pk if user is not None else None,
        actor_name=user.get_username() if user is not None else "",
        action=action,
        target_type=target._meta.model_name or "" if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=(label if label is not None else str(target) if target else "")[:200],
        details=details,
        ip=where.ip,
        via=where.via,
    )
