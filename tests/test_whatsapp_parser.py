"""The parser against Meta's shapes: the shared fixtures (modelled on real traffic) and the
signed test vector."""

from __future__ import annotations

import json
import re

import pytest

from stadtbote.channels.types import (
    ButtonReply,
    DeliveryStatus,
    InboundText,
    StatusUpdate,
    Unhandled,
)
from stadtbote.channels.whatsapp import parser, signature


def fixture(shared, name):
    return json.loads((shared / "whatsapp" / "fixtures" / "pywa" / f"{name}.json").read_text())


def as_body(payload) -> bytes:
    return json.dumps(payload).encode()


def test_it_parses_a_text_message(shared):
    [event] = parser.parse(as_body(fixture(shared, "message")["text"]))
    assert isinstance(event, InboundText)
    assert event.text == "Body Text"
    assert event.sender == "972987654321"
    assert event.message_id == "wamid.xyzxyz"


def test_it_parses_reply_button_taps(shared):
    data = fixture(shared, "callback_button")
    for name, payload in data.items():
        events = parser.parse(as_body(payload))
        assert all(isinstance(e, ButtonReply) for e in events), name
        assert events[0].button_id


def test_it_parses_every_status_fixture(shared):
    for name, payload in fixture(shared, "message_status").items():
        events = parser.parse(as_body(payload))
        assert events, name
        for event in events:
            assert isinstance(event, StatusUpdate | Unhandled), name


def test_it_reads_a_failed_status_with_its_error_code(shared):
    [event] = parser.parse(as_body(fixture(shared, "message_status")["failed"]))
    assert isinstance(event, StatusUpdate)
    assert event.status is DeliveryStatus.FAILED
    assert event.error_code == 130472


def test_it_echoes_the_tracker(shared):
    [event] = parser.parse(as_body(fixture(shared, "message_status")["with_tracker"]))
    assert isinstance(event, StatusUpdate)
    assert event.tracker


@pytest.mark.parametrize(
    "name",
    [
        "message",
        "callback_selection",
        "system",
        "user_marketing_preferences",
        "template_status_update",
        "account_update",
        "call_connect",
        "flow_completion",
    ],
)
def test_it_recognises_every_fixture_without_failing(shared, name):
    for payload in fixture(shared, name).values():
        for event in parser.parse(as_body(payload)):
            assert isinstance(event, InboundText | ButtonReply | StatusUpdate | Unhandled)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'{"object":"page"}',
        b'{"object":"whatsapp_business_account"}',
        b'{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages"}]}]}',
        b'{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"type":"text"}]}}]}]}',
        b"\xff\xfe",
    ],
)
def test_it_raises_malformed_for_what_is_not_a_webhook(body):
    with pytest.raises(parser.MalformedWebhook):
        parser.parse(body)


def test_the_signed_test_vector_verifies(shared):
    readme = (shared / "whatsapp" / "README.md").read_text()
    secret = re.search(r"app secret: `([0-9a-f]+)`", readme).group(1)
    header = re.search(r"X-Hub-Signature-256: (sha256=[0-9a-f]+)", readme).group(1)
    contract = (shared / "whatsapp" / "cloud-api-contract.md").read_text()
    body = re.search(r"  - body:\n    `(\{.*?\})`", contract).group(1).encode()
    assert signature.is_valid(secret, body, header)
    assert not signature.is_valid(secret, body + b" ", header)
    assert not signature.is_valid("wrong", body, header)
