from __future__ import annotations

import pytest

from stadtbote.channels.models import InboundWebhook
from tests.helpers import ALICE, compact, post_webhook, text_message

pytestmark = pytest.mark.django_db


def test_it_stores_a_signed_webhook_and_answers_200(client):
    response = post_webhook(client, compact(text_message(ALICE, "Start")))
    assert response.status_code == 200
    assert InboundWebhook.objects.get().state == InboundWebhook.State.PENDING


def test_it_refuses_a_missing_signature_with_401_and_stores_nothing(client):
    response = post_webhook(client, compact(text_message(ALICE, "Start")), signature=None)
    assert response.status_code == 401
    assert not InboundWebhook.objects.exists()


@pytest.mark.parametrize("signature", ["sha256=" + "0" * 64, "sha1=abc", "garbage", "sha256="])
def test_it_refuses_a_wrong_signature_with_403_and_stores_nothing(client, signature):
    response = post_webhook(client, compact(text_message(ALICE, "Start")), signature=signature)
    assert response.status_code == 403
    assert not InboundWebhook.objects.exists()


def test_it_refuses_a_signature_over_other_bytes(client, settings):
    from stadtbote.channels.whatsapp.signature import sign

    body = compact(text_message(ALICE, "Start"))
    other = sign(settings.WHATSAPP["APP_SECRET"], body + b" ")
    assert post_webhook(client, body, signature=other).status_code == 403


def test_it_refuses_a_body_over_3_mb_with_413(client):
    body = (
        b'{"object":"whatsapp_business_account","entry":[],"pad":"'
        + b"x" * (3 * 1024 * 1024)
        + b'"}'
    )
    assert post_webhook(client, body).status_code == 413
    assert not InboundWebhook.objects.exists()


def test_it_stores_a_repeated_webhook_once(client):
    body = compact(text_message(ALICE, "Start"))
    assert post_webhook(client, body).status_code == 200
    assert post_webhook(client, body).status_code == 200
    assert InboundWebhook.objects.count() == 1


def test_it_stores_a_signed_but_malformed_body_for_inspection(client):
    assert post_webhook(client, b"this is not json").status_code == 200
    assert InboundWebhook.objects.get().body == b"this is not json"


def test_it_only_allows_get_and_post(client):
    assert client.put("/webhooks/whatsapp").status_code == 405


def test_the_handshake_echoes_the_challenge(client):
    response = client.get(
        "/webhooks/whatsapp",
        {
            "hub.mode": "subscribe",
            "hub.verify_token": "test-verify-token",
            "hub.challenge": "1158201444",
        },
    )
    assert response.status_code == 200
    assert response.content == b"1158201444"


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "test-verify-token", "hub.challenge": "1"},
        {},
    ],
)
def test_the_handshake_refuses_a_wrong_token_or_mode(client, params):
    assert client.get("/webhooks/whatsapp", params).status_code == 403
