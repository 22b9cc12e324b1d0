"""Hands new chat concerns to the city's own Open311 system and brings its status back.

With OPEN311_FORWARD_URL set:
1. A concern created from the chat is marked `pending`, due now, and a job for it is
   queued once the transaction commits (its id only). Concerns that came in over Open311
   are left alone: they came from a system, perhaps the very one we would send them to.
2. Sending claims the concern (compare-and-set on `forward_next_at`, so the immediate job
   and the minute's sweep never send it twice at once) and POSTs `requests.json`,
   form-encoded. Then:
   - 2xx: `sent`, with the receiving system's service_request_id, or its token, which is
     exchanged for the id later (`tokens/{token}.json`);
   - 4xx with a reason (bad service_code, missing location …): `failed`, for good, with the
     reason on the concern and in its history, where staff see it;
   - 5xx, 401/403/408/425/429, a refused connection, a timeout: tried again after 1, 2, 4 …
     minutes, at most an hour apart, for as long as it takes. A wrong api_key is a setting
     to fix, not the concern's fault, so it waits like an outage.
   Delivery is at least once: a system that stored the request but did not answer in time
   gets it again.
3. Every minute the sweep sends what is due. The first failure of a run that says "down"
   ends the run, so an unreachable system costs one attempt a minute, not one per concern.
4. It also asks, for concerns not asked about in the last PULL_EVERY, what the receiving
   system says now (`GET requests.json?service_request_id=a,b,c`, ≤ 50 at a time):
   closed → resolved here, with its status_notes, which tells the citizen
   (`concern_status_changed`); open again after closed → in progress here. Resolved concerns
   are still asked about for FOLLOW_RESOLVED, so a reopening is noticed.

Logs name concern ids and HTTP statuses, never a description, an address or a phone number.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import quote

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext

from stadtbote.inbox import actions
from stadtbote.inbox.models import OPEN_STATUSES, Concern, ConcernEvent, Status
from stadtbote.inbox.open311 import media
from stadtbote.inbox.open311.parsing import DESCRIPTION_MAX

log = logging.getLogger(__name__)

Forwarding = Concern.Forwarding
# Short: a job waiting on a hanging system holds a worker thread.
TIMEOUT = httpx.Timeout(10.0, connect=3.0)
# How long a claimed concern is left alone before the sweep may take it again (a worker
# killed mid-send): longer than any one attempt can take.
CLAIM = timedelta(minutes=2)
BACKOFF_MAX = timedelta(hours=1)
SEND_BATCH = 50
PULL_EVERY = timedelta(minutes=10)
PULL_BATCH = 50
PULL_BATCHES = 20
TOKEN_BATCH = 50
FOLLOW_RESOLVED = timedelta(days=30)
# Answers that say "not now" rather than "never".
TRANSIENT = {401, 403, 408, 425, 429}
ERROR_MAX = 200


def enabled() -> bool:
    return bool(settings.OPEN311_FORWARD_URL)


def on_concern_created(sender: Any, concern: Concern, **_: Any) -> None:
    """Receiver of `inbox.signals.concern_created`."""
    if not enabled() or concern.source != Concern.Source.CHAT:
        return
    now = timezone.now()
    Concern.objects.filter(pk=concern.pk).update(
        forwarding=Forwarding.PENDING, forward_next_at=now, forward_attempts=0, forward_error=""
    )
    concern.forwarding, concern.forward_next_at = Forwarding.PENDING, now
    concern_id = concern.pk
    # robust: a queue that cannot be reached must not fail the citizen's report; the
    # minute's sweep sends it all the same.
    transaction.on_commit(lambda: _queue(concern_id), robust=True)


def _queue(concern_id: int) -> None:
    from stadtbote.inbox.open311 import tasks  # the tasks import this module

    tasks.forward_concern(concern_id)


@contextmanager
def _client() -> Iterator[httpx.Client]:
    with httpx.Client(
        timeout=TIMEOUT, trust_env=False, headers={"Accept": "application/json"}
    ) as client:
        yield client


def _url(resource: str) -> str:
    return f"{settings.OPEN311_FORWARD_URL}/{resource}"


def _credentials() -> dict[str, str]:
    given = {
        "api_key": settings.OPEN311_FORWARD_API_KEY,
        "jurisdiction_id": settings.OPEN311_FORWARD_JURISDICTION,
    }
    return {name: value for name, value in given.items() if value}


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _reasons(payload: Any) -> str:
    """The GeoReport error list, as one line."""
    if not isinstance(payload, list):
        return ""
    return "; ".join(
        f"{entry.get('code', '')} {entry.get('description', '')}".strip()
        for entry in payload
        if isinstance(entry, dict)
    )


@dataclass(frozen=True)
class Outcome:
    kind: Literal["sent", "failed", "retry"]
    external_id: str = ""
    token: str = ""
    error: str = ""


def request_for(concern: Concern) -> dict[str, str]:
    """The form fields sent: the report, its place and photo; nothing about the citizen."""
    data = {
        **_credentials(),
        "service_code": concern.category.service_code,
        "description": concern.description[:DESCRIPTION_MAX],
    }
    if concern.latitude is not None and concern.longitude is not None:
        data["lat"], data["long"] = repr(concern.latitude), repr(concern.longitude)
    address = concern.address or (concern.district.name if concern.district else "")
    if address:
        data["address_string"] = address
    media_url = concern.media_url or media.photo_url(concern, pending_too=True)
    if media_url:
        data["media_url"] = media_url
    return data


def _post(concern: Concern, client: httpx.Client) -> Outcome:
    try:
        response = client.post(_url("requests.json"), data=request_for(concern))
    except httpx.TimeoutException:
        return Outcome("retry", error="timeout")
    except httpx.HTTPError as exc:
        return Outcome("retry", error=f"connection: {type(exc).__name__}")
    status, payload = response.status_code, _json(response)
    if 200 <= status < 300:
        entry = payload[0] if isinstance(payload, list) and payload else payload
        if not isinstance(entry, dict):
            entry = {}
        found, token = entry.get("service_request_id"), entry.get("token")
        if found not in (None, ""):
            return Outcome("sent", external_id=str(found)[:100])
        if token not in (None, ""):
            return Outcome("sent", token=str(token)[:100])
        return Outcome("sent", error="accepted without a service_request_id or token")
    reasons = _reasons(payload)
    error = f"HTTP {status}" + (f": {reasons}" if reasons else "")
    if status >= 500 or status in TRANSIENT:
        return Outcome("retry", error=error)
    return Outcome("failed", error=error)


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 1, 2, 4 … minutes, at most an hour."""
    return min(timedelta(minutes=2 ** min(attempts - 1, 10)), BACKOFF_MAX)


def _record(concern: Concern, outcome: Outcome, now: datetime) -> None:
    attempts = concern.forward_attempts + 1
    error = outcome.error[:ERROR_MAX]
    fields: dict[str, Any] = {"forward_attempts": attempts, "forward_error": error}
    if outcome.kind == "retry":
        fields["forward_next_at"] = now + backoff(attempts)
    else:
        fields["forward_next_at"] = None
        fields["forwarding"] = Forwarding.SENT if outcome.kind == "sent" else Forwarding.FAILED
        fields["external_id"] = outcome.external_id
        fields["external_token"] = outcome.token
    with transaction.atomic():
        Concern.objects.filter(pk=concern.pk).update(**fields)
        if outcome.kind == "failed":
            note = gettext("Not forwarded: the receiving system refused it (%(error)s).")
            ConcernEvent.objects.create(
                concern=concern, at=now, note=(note % {"error": error})[:500]
            )
    log.info(
        "open311 forward concern=%s outcome=%s attempts=%s %s",
        concern.pk,
        outcome.kind,
        attempts,
        # The status line only: the receiving system's reasons may quote the report.
        error.split(":", 1)[0],
    )


def forward(
    concern_id: int, *, now: datetime | None = None, client: httpx.Client | None = None
) -> Outcome | None:
    """Sends one concern if it is due and nobody else is sending it; None otherwise."""
    if not enabled():
        return None
    now = now or timezone.now()
    claimed = Concern.objects.filter(
        pk=concern_id, forwarding=Forwarding.PENDING, forward_next_at__lte=now
    ).update(forward_next_at=now + CLAIM)
    if not claimed:
        return None
    concern = (
        Concern.objects.select_related("category", "district", "photo")
        .filter(pk=concern_id)
        .first()
    )
    if concern is None:  # erased meanwhile
        return None
    if client is None:
        with _client() as own:
            outcome = _post(concern, own)
    else:
        outcome = _post(concern, client)
    _record(concern, outcome, now)
    return outcome


def send_due(*, now: datetime | None = None) -> int:
    """Sends the concerns that are due, oldest first; returns how many were sent."""
    if not enabled():
        return 0
    now = now or timezone.now()
    due = list(
        Concern.objects.filter(forwarding=Forwarding.PENDING, forward_next_at__lte=now)
        .order_by("forward_next_at", "pk")
        .values_list("pk", flat=True)[:SEND_BATCH]
    )
    sent = 0
    with _client() as client:
        for concern_id in due:
            outcome = forward(concern_id, now=now, client=client)
            if outcome is not None and outcome.kind == "retry":
                break  # down: the others wait for the next minute's probe
            sent += outcome is not None and outcome.kind == "sent"
    return sent


def _checked(concerns: Sequence[Concern], now: datetime) -> None:
    Concern.objects.filter(pk__in=[c.pk for c in concerns]).update(external_checked_at=now)


def _due_for_check(now: datetime) -> Q:
    return Q(external_checked_at__isnull=True) | Q(external_checked_at__lte=now - PULL_EVERY)


def resolve_tokens(client: httpx.Client, now: datetime) -> bool:
    """Exchanges receiving systems' tokens for their request ids (spec: GET tokens/{token});
    False if the system seems down."""
    waiting = list(
        Concern.objects.filter(forwarding=Forwarding.SENT, external_id="")
        .exclude(external_token="")
        .filter(_due_for_check(now))
        .order_by(F("external_checked_at").asc(nulls_first=True), "pk")[:TOKEN_BATCH]
    )
    for concern in waiting:
        _checked([concern], now)
        try:
            response = client.get(
                _url(f"tokens/{quote(concern.external_token, safe='')}.json"),
                params=_credentials(),
            )
        except httpx.HTTPError as exc:
            log.warning("open311 token concern=%s failed: %s", concern.pk, type(exc).__name__)
            return False
        payload = _json(response)
        entry = payload[0] if isinstance(payload, list) and payload else None
        found = entry.get("service_request_id") if isinstance(entry, dict) else None
        if response.status_code == 200 and found not in (None, ""):
            Concern.objects.filter(pk=concern.pk).update(external_id=str(found)[:100])
        elif response.status_code >= 500:
            log.warning("open311 token concern=%s HTTP %s", concern.pk, response.status_code)
            return False
    return True


def _apply(concern_id: int, remote: str, notes: str, now: datetime) -> None:
    """One answer of the receiving system: only a change of its status changes the concern
    (the same answer every ten minutes tells nobody anything)."""
    with transaction.atomic():
        concern = Concern.objects.select_for_update().get(pk=concern_id)
        before = concern.external_status
        if remote == "closed" and before != "closed" and concern.is_open:
            actions.set_concern_status(concern, Status.RESOLVED, note=notes, at=now)
        elif remote == "open" and before == "closed" and concern.status == Status.RESOLVED:
            actions.set_concern_status(concern, Status.IN_PROGRESS, note=notes, at=now)
        if before != remote:
            Concern.objects.filter(pk=concern_id).update(external_status=remote)


def _pull(concerns: Sequence[Concern], client: httpx.Client, now: datetime) -> bool:
    by_id = {c.external_id: c for c in concerns}
    _checked(concerns, now)
    try:
        response = client.get(
            _url("requests.json"),
            params={**_credentials(), "service_request_id": ",".join(by_id)},
        )
    except httpx.HTTPError as exc:
        log.warning("open311 status pull failed: %s", type(exc).__name__)
        return False
    payload = _json(response)
    if response.status_code != 200 or not isinstance(payload, list):
        # Whatever it is (down, a wrong key, not Open311 at all), the next batch would get
        # the same: the rest wait for their next turn.
        log.warning("open311 status pull HTTP %s", response.status_code)
        return False
    for entry in payload:
        if not isinstance(entry, dict):
            continue
        concern = by_id.get(str(entry.get("service_request_id")))
        remote = entry.get("status")
        if concern is None or remote not in ("open", "closed"):
            continue
        _apply(concern.pk, remote, str(entry.get("status_notes") or ""), now)
    return True


def pull_statuses(*, now: datetime | None = None) -> int:
    """Asks the receiving system about the concerns due for it; returns how many were asked
    about."""
    if not enabled():
        return 0
    now = now or timezone.now()
    asked = 0
    with _client() as client:
        if not resolve_tokens(client, now):
            return 0
        followed = Q(status__in=OPEN_STATUSES) | Q(resolved_at__gte=now - FOLLOW_RESOLVED)
        due = list(
            Concern.objects.filter(forwarding=Forwarding.SENT)
            .exclude(external_id="")
            .filter(followed, _due_for_check(now))
            .order_by(F("external_checked_at").asc(nulls_first=True), "pk")[
                : PULL_BATCH * PULL_BATCHES
            ]
        )
        for start in range(0, len(due), PULL_BATCH):
            batch = due[start : start + PULL_BATCH]
            if not _pull(batch, client, now):
                break
            asked += len(batch)
    return asked
