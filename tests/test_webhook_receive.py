"""What Meta gets back from /webhooks/whatsapp, through both doors: the lean ASGI path that
stadtbote.asgi routes POSTs to (what runs in production), and Django's view (the test client).
The lean path's own behaviour (unread refusals, batches) is in test_webhook_intake.py."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.test import Client

from stadtbote import asgi
from stadtbote.channels import intake
from stadtbote.channels.models import InboundWebhook
from stadtbote.channels.whatsapp.signature import sign
from tests.helpers import ALICE, compact, post_webhook, text_message

# The lean path commits on the writer thread's own connection: real transactions.
pytestmark = pytest.mark.django_db(transaction=True)


class DjangoDoor:
    def __init__(self) -> None:
        self.client = Client()

    def post(self, body: bytes, signature: str | None = "auto") -> int:
        return int(post_webhook(self.client, body, signature=signature).status_code)

    def get(self, params: dict[str, str]) -> tuple[int, bytes]:
        response = self.client.get("/webhooks/whatsapp", params)
        return response.status_code, response.content

    def put(self) -> int:
        return int(self.client.put("/webhooks/whatsapp").status_code)


class AsgiDoor:
    """Requests through stadtbote.asgi.application, as uvicorn hands them over."""

    def _request(self, method: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=asgi.application)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
                return await c.request(method, "/webhooks/whatsapp", **kwargs)

        return asyncio.run(go())

    def post(self, body: bytes, signature: str | None = "auto") -> int:
        headers = {"Content-Type": "application/json"}
        if signature == "auto":
            headers["X-Hub-Signature-256"] = sign(settings.WHATSAPP["APP_SECRET"], body)
        elif signature is not None:
            headers["X-Hub-Signature-256"] = signature
        return self._request("POST", content=body, headers=headers).status_code

    def get(self, params: dict[str, str]) -> tuple[int, bytes]:
        response = self._request("GET", params=params)
        return response.status_code, response.content

    def put(self) -> int:
        return self._request("PUT").status_code


@pytest.fixture(params=["asgi", "django"])
def door(request: pytest.FixtureRequest) -> Iterator[DjangoDoor | AsgiDoor]:
    yield AsgiDoor() if request.param == "asgi" else DjangoDoor()
    intake.stop()  # the writer thread closes its connection before the tables are flushed


def test_it_stores_a_signed_webhook_and_answers_200(door):
    assert door.post(compact(text_message(ALICE, "Start"))) == 200
    assert InboundWebhook.objects.get().state == InboundWebhook.State.PENDING


def test_it_refuses_a_missing_signature_with_401_and_stores_nothing(door):
    assert door.post(compact(text_message(ALICE, "Start")), signature=None) == 401
    assert not InboundWebhook.objects.exists()


@pytest.mark.parametrize("signature", ["sha256=" + "0" * 64, "sha1=abc", "garbage", "sha256="])
def test_it_refuses_a_wrong_signature_with_403_and_stores_nothing(door, signature):
    assert door.post(compact(text_message(ALICE, "Start")), signature=signature) == 403
    assert not InboundWebhook.objects.exists()


def test_it_refuses_a_signature_over_other_bytes(door):
    body = compact(text_message(ALICE, "Start"))
    other = sign(settings.WHATSAPP["APP_SECRET"], body + b" ")
    assert door.post(body, signature=other) == 403
    assert not InboundWebhook.objects.exists()


def test_it_refuses_a_body_over_3_mb_with_413(door):
    body = (
        b'{"object":"whatsapp_business_account","entry":[],"pad":"'
        + b"x" * (3 * 1024 * 1024)
        + b'"}'
    )
    assert door.post(body) == 413
    assert not InboundWebhook.objects.exists()


def test_it_accepts_a_body_of_exactly_3_mb(door):
    body = b'{"pad":"' + b"x" * (3 * 1024 * 1024 - 10) + b'"}'
    assert len(body) == settings.WEBHOOK_MAX_BYTES
    assert door.post(body) == 200
    assert InboundWebhook.objects.count() == 1


def test_it_stores_a_repeated_webhook_once(door):
    body = compact(text_message(ALICE, "Start"))
    assert door.post(body) == 200
    assert door.post(body) == 200
    assert InboundWebhook.objects.count() == 1


def test_it_stores_a_signed_but_malformed_body_for_inspection(door):
    assert door.post(b"this is not json") == 200
    assert InboundWebhook.objects.get().body == b"this is not json"


def test_it_refuses_a_bad_content_length_with_400():
    # Only the Django door: uvicorn (h11) already refuses such a request before the app.
    client = Client()
    response = client.post(
        "/webhooks/whatsapp", data=b"{}", content_type="application/json", CONTENT_LENGTH="abc"
    )
    assert (response.status_code, response.content) == (400, b"bad Content-Length")
    assert not InboundWebhook.objects.exists()


def test_it_only_allows_get_and_post(door):
    assert door.put() == 405


def test_the_handshake_echoes_the_challenge(door):
    status, content = door.get(
        {
            "hub.mode": "subscribe",
            "hub.verify_token": "test-verify-token",
            "hub.challenge": "1158201444",
        }
    )
    assert (status, content) == (200, b"1158201444")


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "test-verify-token", "hub.challenge": "1"},
        {},
    ],
)
def test_the_handshake_refuses_a_wrong_token_or_mode(door, params):
    assert door.get(params)[0] == 403
