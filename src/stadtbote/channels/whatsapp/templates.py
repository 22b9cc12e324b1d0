"""Meta's template endpoints (`/{waba-id}/message_templates`): register and read back.

Low volume and synchronous (staff actions, a periodic sync), so httpx rather than the
aiohttp send loop.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

from stadtbote.channels.types import TransportError
from stadtbote.channels.whatsapp import errors

TIMEOUT = httpx.Timeout(20.0, connect=5.0)
_VARIABLE = re.compile(r"\{\{(\d+)\}\}")
MAX_PAGES = 100  # 100 pages of 100: far more templates than Meta lets an account have


@dataclass(frozen=True)
class RemoteTemplate:
    name: str
    language: str
    status: str
    category: str
    meta_id: str
    reason: str = ""


def variables(body: str) -> list[int]:
    return sorted({int(n) for n in _VARIABLE.findall(body)})


def _client() -> httpx.Client:
    wa = settings.WHATSAPP
    return httpx.Client(
        base_url=f"{wa['API_BASE_URL']}/{wa['API_VERSION']}/{wa['BUSINESS_ACCOUNT_ID']}",
        headers={"Authorization": f"Bearer {wa['ACCESS_TOKEN']}"},
        timeout=TIMEOUT,
        trust_env=False,
    )


def _checked(response: httpx.Response) -> Any:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if response.status_code != 200:
        raise errors.from_response(response.status_code, payload)
    return payload


def register(
    *, name: str, language: str, category: str, body: str, buttons: Sequence[str] = ()
) -> RemoteTemplate:
    """Submit a template for review; returns Meta's id and first status. `buttons` are
    quick-reply button texts (a poll's template)."""
    count = len(variables(body))
    component: dict[str, Any] = {"type": "BODY", "text": body}
    if count:
        # Meta's review needs an example value for every variable.
        component["example"] = {"body_text": [[f"Beispiel {n}" for n in range(1, count + 1)]]}
    components = [component]
    if buttons:
        components.append(
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": b} for b in buttons]}
        )
    request = {"name": name, "language": language, "category": category, "components": components}
    try:
        with _client() as client:
            answer = _checked(client.post("/message_templates", json=request))
    except httpx.HTTPError as exc:
        raise TransportError(f"connection: {type(exc).__name__}", permanent=False) from None
    return RemoteTemplate(
        name=name,
        language=language,
        status=str(answer.get("status", "PENDING")),
        category=str(answer.get("category", category)),
        meta_id=str(answer.get("id", "")),
    )


def fetch_all() -> list[RemoteTemplate]:
    found: list[RemoteTemplate] = []
    params: dict[str, str] = {
        "limit": "100",
        "fields": "name,language,status,category,id,rejected_reason",
    }
    try:
        with _client() as client:
            for _ in range(MAX_PAGES):
                answer = _checked(client.get("/message_templates", params=params))
                found += [
                    RemoteTemplate(
                        name=str(t["name"]),
                        language=str(t["language"]),
                        status=str(t["status"]),
                        category=str(t.get("category", "")),
                        meta_id=str(t.get("id", "")),
                        reason=str(t.get("rejected_reason") or ""),
                    )
                    for t in answer.get("data", [])
                ]
                after = (answer.get("paging") or {}).get("cursors", {}).get("after")
                if not after or not (answer.get("paging") or {}).get("next"):
                    break
                params["after"] = after
    except httpx.HTTPError as exc:
        raise TransportError(f"connection: {type(exc).__name__}", permanent=False) from None
    return found
