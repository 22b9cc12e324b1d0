"""The emulator plays Meta's GET handshake against the app's webhook URL."""

from __future__ import annotations

import pytest

from .support import emulator, receiver

pytestmark = pytest.mark.anyio


async def test_it_reports_a_receiver_that_echoes_the_challenge() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url) as client:
        response = await client.post("/_emulator/verify-webhook")

    result = response.json()
    assert result["ok"] is True
    assert result["status_code"] == 200
    assert result["body"] == result["challenge"]
    assert result["challenge"].isdigit()
    assert result["url"] == hook.url


async def test_it_reports_a_receiver_that_refuses_a_wrong_token() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url) as client:
        response = await client.post("/_emulator/verify-webhook", json={"verify_token": "wrong"})

    result = response.json()
    assert result["ok"] is False
    assert result["status_code"] == 403
    assert result["error"]


async def test_it_explains_that_no_webhook_url_is_set() -> None:
    async with emulator(webhook_url=None) as client:
        response = await client.post("/_emulator/verify-webhook")

    assert response.status_code == 400
    assert "webhook URL" in response.json()["error"]
