"""Template review: a test sets the status, the app hears of it by webhook, sends follow it."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from whatsapp_emulator.config import EmulatorConfig

from .content_support import (
    TEMPLATES_PATH,
    body_parameters,
    create_template,
    post,
    template_definition,
    template_send,
)
from .support import (
    APP_SECRET,
    AUTH,
    BUSINESS_ACCOUNT_ID,
    emulator,
    error_of,
    make_config,
    receiver,
    shared_file,
    wait_until,
)

pytestmark = pytest.mark.anyio

STATUS_PATH = "/_emulator/templates/abfallkalender/de/status"
SEND = template_send(components=[body_parameters("Erika", "Hof", "Biotonne")])


async def test_a_pending_template_cannot_be_sent_until_approved() -> None:
    async with emulator(auto_approve_templates=False) as client:
        await create_template(client, template_definition())
        pending = await post(client, SEND)
        review = await client.post(STATUS_PATH, json={"status": "APPROVED"})
        approved = await post(client, SEND)

    assert pending.status_code == 400
    assert error_of(pending)["code"] == 132001
    assert review.json()["status"] == "APPROVED"
    assert review.json()["changed"] is True
    assert approved.status_code == 200


@pytest.mark.parametrize(
    ("status", "code"),
    [("REJECTED", 132001), ("PAUSED", 132015), ("DISABLED", 132016), ("PENDING", 132001)],
)
async def test_only_approved_templates_can_be_sent(status: str, code: int) -> None:
    async with emulator() as client:
        await create_template(client, template_definition())
        await client.post(STATUS_PATH, json={"status": status})
        response = await post(client, SEND)

    assert response.status_code == 400
    assert error_of(response)["code"] == code


async def test_every_change_sends_the_status_update_webhook() -> None:
    async with (
        receiver() as hook,
        emulator(webhook_url=hook.url, auto_approve_templates=False) as client,
    ):
        created = await create_template(client, template_definition())
        await client.post(STATUS_PATH, json={"status": "REJECTED", "reason": "INVALID_FORMAT"})
        await client.post(STATUS_PATH, json={"status": "REJECTED"})
        await client.post(STATUS_PATH, json={"status": "APPROVED"})
        await wait_until(lambda: len(hook.requests) == 2)

    values = [received.value() for received in hook.requests]
    assert [value["event"] for value in values] == ["REJECTED", "APPROVED"]
    assert values[0] == {
        "event": "REJECTED",
        "message_template_id": int(created["id"]),
        "message_template_name": "abfallkalender",
        "message_template_language": "de",
        "reason": "INVALID_FORMAT",
        "message_template_category": "UTILITY",
    }
    for received in hook.requests:
        payload = received.json()
        assert payload["object"] == "whatsapp_business_account"
        [entry] = payload["entry"]
        assert entry["id"] == BUSINESS_ACCOUNT_ID
        assert isinstance(entry["time"], int)
        assert entry["changes"][0]["field"] == "message_template_status_update"
        digest = hmac.new(APP_SECRET.encode(), received.body, hashlib.sha256).hexdigest()
        assert received.headers["X-Hub-Signature-256"] == f"sha256={digest}"


async def test_auto_approval_sends_the_approved_webhook() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url) as client:
        await create_template(client, template_definition())
        await wait_until(lambda: len(hook.requests) == 1)

    assert hook.requests[0].value()["event"] == "APPROVED"


async def test_the_status_update_has_the_shape_of_pywas_fixture() -> None:
    fixture = json.loads(shared_file("fixtures/pywa/template_status_update.json").read_text())
    async with receiver() as hook, emulator(webhook_url=hook.url) as client:
        await create_template(client, template_definition())
        await wait_until(lambda: len(hook.requests) == 1)

    sent = hook.requests[0].json()
    expected = fixture["approved"]
    assert set(sent) == set(expected)
    assert set(sent["entry"][0]) == set(expected["entry"][0])
    expected_value = expected["entry"][0]["changes"][0]["value"]
    sent_value = sent["entry"][0]["changes"][0]["value"]
    assert {key: type(value) for key, value in sent_value.items()} == {
        key: type(value) for key, value in expected_value.items()
    }


async def test_the_control_api_lists_templates_with_their_review_state() -> None:
    async with emulator(auto_approve_templates=False) as client:
        await create_template(client, template_definition())
        await client.post(STATUS_PATH, json={"status": "REJECTED", "reason": "SCAM"})
        answer = (await client.get("/_emulator/templates")).json()

    by_name = {template["name"]: template for template in answer["templates"]}
    assert by_name["abfallkalender"]["status"] == "REJECTED"
    assert by_name["abfallkalender"]["reason"] == "SCAM"


async def test_the_control_api_refuses_bad_input() -> None:
    async with emulator() as client:
        await create_template(client, template_definition())
        unknown = await client.post(
            "/_emulator/templates/nope/de/status", json={"status": "APPROVED"}
        )
        bad_status = await client.post(STATUS_PATH, json={"status": "GOOD"})
        bad_reason = await client.post(STATUS_PATH, json={"status": "REJECTED", "reason": "x"})
        not_json = await client.post(STATUS_PATH, content=b"{")
        not_object = await client.post(STATUS_PATH, json=["APPROVED"])

    assert unknown.status_code == 404
    for response in (bad_status, bad_reason, not_json, not_object):
        assert response.status_code == 400
        assert isinstance(response.json()["error"], str)


async def test_templates_survive_a_reset() -> None:
    async with emulator() as client:
        await create_template(client, template_definition())
        await client.post("/_emulator/reset")
        names = [t["name"] for t in (await client.get(TEMPLATES_PATH, headers=AUTH)).json()["data"]]

    assert "abfallkalender" in names


@pytest.mark.parametrize(
    ("raw", "expected"), [("0", False), ("false", False), ("YES", True), ("1", True)]
)
def test_auto_approval_is_read_from_the_environment(raw: str, expected: bool) -> None:
    environ = {
        "WHATSAPP_ACCESS_TOKEN": "t",
        "WHATSAPP_APP_SECRET": "s",
        "WHATSAPP_PHONE_NUMBER_ID": "1",
        "WHATSAPP_BUSINESS_ACCOUNT_ID": "2",
        "WHATSAPP_VERIFY_TOKEN": "v",
        "EMULATOR_AUTO_APPROVE_TEMPLATES": raw,
    }

    assert EmulatorConfig.from_env(environ).auto_approve_templates is expected


def test_auto_approval_is_on_by_default() -> None:
    assert make_config().auto_approve_templates is True
