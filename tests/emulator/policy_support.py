"""What the policy, timeline and delivery tests share: a frozen clock, templates, citizens."""

from __future__ import annotations

from typing import Any

import httpx

from .support import AUTH, BUSINESS_ACCOUNT_ID, CITIZEN, Receiver, wait_until

# A frozen clock: windows, caps and rate limits move only when a test advances it.
T0 = 1_780_000_000.0
DAY = 86400.0
# Meta's defaults for what make_config switches off.
POLICY: dict[str, Any] = {"frozen_time": T0, "service_window": DAY}

MARKETING_TEMPLATE = ("hello_world", "en_US")  # Meta's sample, categorised MARKETING
UTILITY_TEMPLATE = ("abfall_erinnerung", "de")


def template_message(
    template: tuple[str, str] = MARKETING_TEMPLATE, to: str = CITIZEN
) -> dict[str, Any]:
    name, language = template
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "template",
        "template": {"name": name, "language": {"code": language}},
    }


async def create_utility_template(client: httpx.AsyncClient) -> None:
    name, language = UTILITY_TEMPLATE
    response = await client.post(
        f"/v23.0/{BUSINESS_ACCOUNT_ID}/message_templates",
        headers=AUTH,
        json={
            "name": name,
            "language": language,
            "category": "UTILITY",
            "components": [{"type": "BODY", "text": "Morgen wird der Restmüll abgeholt."}],
        },
    )
    assert response.status_code == 200, response.text


async def citizen_writes(client: httpx.AsyncClient, wa_id: str = CITIZEN) -> None:
    response = await client.post(
        f"/_emulator/users/{wa_id}/send", json={"type": "text", "text": "Hallo Stadt"}
    )
    assert response.status_code == 200, response.text


async def advance(client: httpx.AsyncClient, seconds: float) -> None:
    response = await client.post("/_emulator/clock/advance", json={"seconds": seconds})
    assert response.status_code == 200, response.text


async def set_properties(client: httpx.AsyncClient, wa_id: str, **properties: bool) -> None:
    response = await client.post(f"/_emulator/users/{wa_id}/properties", json=properties)
    assert response.status_code == 200, response.text


def statuses_for(hook: Receiver, wamid: str) -> list[dict[str, Any]]:
    return [status for status in hook.statuses if status["id"] == wamid]


async def outcome(hook: Receiver, wamid: str) -> dict[str, Any]:
    """The first status of a send once its fate is known: failed, or sent."""
    await wait_until(lambda: bool(statuses_for(hook, wamid)))
    return statuses_for(hook, wamid)[0]


async def error_code(hook: Receiver, wamid: str) -> int | None:
    """The error code of the send's failed status; None when it was sent."""
    status = await outcome(hook, wamid)
    if status["status"] != "failed":
        return None
    code: int = status["errors"][0]["code"]
    return code
