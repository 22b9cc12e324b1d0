"""Every request example of Meta's OpenAPI for ``/messages`` is posted to the emulator.

Placeholders like ``{{Recipient-Phone-Number}}`` or ``<IMAGE_OBJECT_ID>`` are filled with a
real number, an uploaded media id, a received wamid or an approved template. Examples of
types the emulator does not emulate, and examples that Meta itself would refuse, are listed
with the reason; the test checks that they fail for exactly that reason.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import httpx
import pytest
import yaml

from .content_support import PDF, PNG, create_template, template_definition, upload_id
from .support import AUTH, CITIZEN, SEND_PATH, SHARED, emulator, error_of, shared_file

pytestmark = pytest.mark.anyio

# Types and features the emulator does not emulate.
NOT_EMULATED = {
    "Send Contact Message": "contacts messages are not emulated",
    "Send Reply to Contact Message": "contacts messages are not emulated",
    "Send Catalog Message": "catalogs and products are not emulated",
    "Send Single Product Message": "catalogs and products are not emulated",
    "Send Multi-Product Message": "catalogs and products are not emulated",
    "Send Order Details Message": "payments (order_details) are not emulated",
    "Send Order Status Message": "payments (order_status) are not emulated",
    "Send Draft Flow by ID": "WhatsApp Flows are not emulated",
    "Send Draft Flow by Name": "WhatsApp Flows are not emulated",
    "Send Published Flow by ID": "WhatsApp Flows are not emulated",
    "Send Published Flow by Name": "WhatsApp Flows are not emulated",
    "Send Flow Template Message": "WhatsApp Flows are not emulated",
    "Send Catalog Template Message": "catalog buttons in templates are not emulated",
}
# Examples Meta's own API would refuse as published.
INVALID_AS_PUBLISHED = {
    # No "type", so it defaults to text (OAS BaseMessageProperties, contract 1.2), but the
    # body is an interactive list: the text is missing.
    "Send Reply to List Message": 131008,
    # Its quick-reply buttons carry {"type": "text", "text": true}: a boolean where
    # ButtonTextParameter wants a string, and quick replies take a payload parameter.
    "Send Sample Issue Resolution Template": 100,
}
# The templates the examples name, created before they are sent (placeholder names made
# valid: template names allow only [a-z0-9_]).
EXAMPLE_TEMPLATES: dict[str, dict[str, Any]] = {
    "Send Message Template Text": {"body": "{{1}} paid {{2}} on {{3}}."},
    "Send Sample Text Message": {"body": "{{1}} paid {{2}} on {{3}}."},
    "Send Sample Shipping Confirmation Template": {"body": "{{1}} paid {{2}} on {{3}}."},
    "Send Message Template Media": {"body": "{{1}} paid {{2}} on {{3}}.", "header": "IMAGE"},
    "Send Message Template Interactive": {
        "body": "{{1}} paid {{2}} on {{3}}.",
        "header": "IMAGE",
        "quick_replies": ["Yes", "No"],
    },
}


@functools.cache
def _examples() -> dict[str, dict[str, Any]]:
    spec = yaml.safe_load(shared_file("meta-openapi-v23.yaml").read_text("utf-8"))
    operation = spec["paths"]["/{Version}/{Phone-Number-ID}/messages"]["post"]
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    return {name: example["value"] for name, example in examples.items()}


def test_the_lists_of_exceptions_name_only_real_examples() -> None:
    names = set(_examples())

    assert set(NOT_EMULATED) <= names
    assert set(INVALID_AS_PUBLISHED) <= names
    assert set(EXAMPLE_TEMPLATES) <= names


def _fill(example: dict[str, Any], values: dict[str, str], template_name: str) -> dict[str, Any]:
    text = json.dumps(example, ensure_ascii=False)
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    body: dict[str, Any] = json.loads(text)
    template = body.get("template")
    if isinstance(template, dict) and template.get("name") in ("template-name", "<TEMPLATE_NAME>"):
        template["name"] = template_name
    if isinstance(template, dict) and template["language"]["code"] == "language-and-locale-code":
        template["language"]["code"] = "en_US"
    return body


async def _prepare(client: httpx.AsyncClient, name: str) -> tuple[dict[str, str], str]:
    """The values for the placeholders, and the name of the template the example needs."""
    received = await client.post(
        f"/_emulator/users/{CITIZEN}/send", json={"type": "text", "text": "Hallo"}
    )
    wamid = received.json()["id"]
    media = {
        "<IMAGE_OBJECT_ID>": await upload_id(client, PNG, "image/png", "a.png"),
        "<DOCUMENT_OBJECT_ID>": await upload_id(client, PDF, "application/pdf", "a.pdf"),
        "<AUDIO_OBJECT_ID>": await upload_id(client, b"ID3" + bytes(64), "audio/mpeg", "a.mp3"),
        "<VIDEO_OBJECT_ID>": await upload_id(client, bytes(64), "video/mp4", "a.mp4"),
        "<MEDIA_OBJECT_ID>": await upload_id(client, bytes(64), "image/webp", "a.webp"),
    }
    values = {
        "{{Recipient-Phone-Number}}": CITIZEN,
        "{{Recipient-WA-Phone-Number}}": CITIZEN,
        "+16505551234": CITIZEN,
        "16315555555": CITIZEN,
        "<MSGID_OF_PREV_MSG>": wamid,
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUYzMjEzNDM2RTZGQ0MzMDJBRgA=": wamid,
        "<MSGID_OF_MSG_YOU_ARE_REPLYING_TO>": wamid,
        "wamid.HBgLM...": wamid,
        "<http(s)://document-url>": "https://stadt.example/a.pdf",
        "<http(s)://audio-url>": "https://stadt.example/a.mp3",
        "<http(s)://video-url>": "https://stadt.example/a.mp4",
        "<http(s)://sticker-url>": "https://stadt.example/a.webp",
        "http(s)://audio-url": "https://stadt.example/a.mp3",
        "http(s)://video-url": "https://stadt.example/a.mp4",
        "http(s)://image-url": "https://stadt.example/a.jpg",
        "http(s)://the-image-url": "https://stadt.example/header.jpg",
        **media,
    }
    template_name = "example_template"
    shape = EXAMPLE_TEMPLATES.get(name)
    if shape is not None:
        definition = template_definition(
            name=template_name,
            language="en_US",
            category="MARKETING",
            body=shape["body"],
            quick_replies=shape.get("quick_replies"),
        )
        if shape.get("header") == "IMAGE":
            definition["components"].insert(0, {"type": "HEADER", "format": "IMAGE"})
        await create_template(client, definition)
    return values, template_name


def _example_names() -> list[str]:
    # Without the shared material the parameter set is empty and pytest skips the test.
    return sorted(_examples()) if (SHARED / "meta-openapi-v23.yaml").exists() else []


@pytest.mark.parametrize("name", _example_names())
async def test_each_example_is_accepted_or_listed_with_its_reason(name: str) -> None:
    example = _examples()[name]
    async with emulator() as client:
        values, template_name = await _prepare(client, name)
        body = _fill(example, values, template_name)
        leftover = [key for key in values if key in json.dumps(body)]
        response = await client.post(SEND_PATH, json=body, headers=AUTH)

    assert leftover == []
    if name in NOT_EMULATED:
        assert response.status_code == 400
        assert (
            "not supported by this emulator version" in error_of(response)["error_data"]["details"]
        )
    elif name in INVALID_AS_PUBLISHED:
        assert response.status_code == 400
        assert error_of(response)["code"] == INVALID_AS_PUBLISHED[name]
    else:
        assert response.status_code == 200, f"{name}: {response.text}"
        if "status" in body:
            assert response.json() == {"success": True}
        else:
            assert response.json()["messages"][0]["id"].startswith("wamid.")
