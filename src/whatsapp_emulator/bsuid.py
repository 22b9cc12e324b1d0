"""Business-scoped user ids (BSUID, 2026), added to webhooks when ``EmulatorConfig.bsuid`` is on.

Field names follow pywa's fixtures (contract 2.3 and 2.9): ``contacts[].user_id`` and
``contacts[].parent_user_id`` in message, status and user_preferences webhooks, and
``messages[].from_user_id`` right after ``from`` in inbound messages. No field of another name
(such as a ``recipient_user_id`` on non-group statuses) is added: no source shows one.

A BSUID has the form ``<contact's country code>.<id>`` (``US.13491208655302741918``) and the
parent id ``<country>.ENT.<id>``. The emulator derives both from the number and the business
account, so the same citizen keeps the same ids across restarts, and they differ between
business accounts, as Meta's do.
"""

from __future__ import annotations

import hashlib
from typing import Any

# Calling codes of the countries a German city's citizens most likely use, longest first.
_COUNTRIES: tuple[tuple[str, str], ...] = (
    ("420", "CZ"),
    ("352", "LU"),
    ("49", "DE"),
    ("43", "AT"),
    ("41", "CH"),
    ("48", "PL"),
    ("45", "DK"),
    ("31", "NL"),
    ("32", "BE"),
    ("33", "FR"),
    ("34", "ES"),
    ("39", "IT"),
    ("44", "GB"),
    ("90", "TR"),
    ("1", "US"),
)


def country_of(wa_id: str) -> str:
    """The ISO country code of a number by its calling code; US when it is none of the above."""
    for prefix, country in _COUNTRIES:
        if wa_id.startswith(prefix):
            return country
    return "US"


def user_ids(business_account_id: str, wa_id: str) -> tuple[str, str]:
    """(user_id, parent_user_id) of a citizen as seen by this business."""
    country = country_of(wa_id)
    return (
        f"{country}.{_digits('user', business_account_id, wa_id)}",
        f"{country}.ENT.{_digits('parent', business_account_id, wa_id)}",
    )


def contact(
    business_account_id: str, wa_id: str, name: str | None, *, bsuid: bool
) -> dict[str, Any]:
    """A ``contacts[]`` element: profile (when the name is known), wa_id, BSUID fields."""
    entry: dict[str, Any] = {}
    if name is not None:
        entry["profile"] = {"name": name}
    entry["wa_id"] = wa_id
    if bsuid:
        entry["user_id"], entry["parent_user_id"] = user_ids(business_account_id, wa_id)
    return entry


def add_to_value(business_account_id: str, value: dict[str, Any]) -> dict[str, Any]:
    """The ``messages`` field value with BSUID fields added, keeping pywa's key order."""
    contacts = value.get("contacts")
    if isinstance(contacts, list):
        for entry in contacts:
            wa_id = entry.get("wa_id") if isinstance(entry, dict) else None
            if isinstance(wa_id, str):
                entry["user_id"], entry["parent_user_id"] = user_ids(business_account_id, wa_id)
    messages = value.get("messages")
    if isinstance(messages, list):
        value["messages"] = [_with_from_user_id(business_account_id, m) for m in messages]
    return value


def _with_from_user_id(business_account_id: str, message: Any) -> Any:
    if not isinstance(message, dict) or not isinstance(message.get("from"), str):
        return message
    user_id = user_ids(business_account_id, message["from"])[0]
    ordered: dict[str, Any] = {}
    for key, item in message.items():
        ordered[key] = item
        if key == "from":
            ordered["from_user_id"] = user_id
    return ordered


def _digits(kind: str, business_account_id: str, wa_id: str) -> str:
    digest = hashlib.sha256(f"{kind}:{business_account_id}:{wa_id}".encode()).digest()
    return str(int.from_bytes(digest[:8], "big") % 10**20).zfill(20)
