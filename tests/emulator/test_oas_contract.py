"""The emulator's answers and webhooks against the schemas of Meta's OpenAPI description.

Schemas are resolved inside ``meta-openapi-v23.yaml`` with ``referencing``. Where Meta's
schema contradicts real traffic (the contract and pywa's fixtures), the test shows the
contradiction on Meta's own example or a fixture and validates against a corrected copy;
each correction says why.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from .content_support import (
    MEDIA_PATH,
    PDF,
    TEMPLATES_PATH,
    body_parameters,
    chat,
    citizen_writes,
    create_template,
    message,
    post,
    quick_reply,
    template_definition,
    template_send,
    upload,
    upload_id,
)
from .support import (
    AUTH,
    CITIZEN,
    PHONE_NUMBER_ID,
    SEND_PATH,
    button_message,
    emulator,
    receiver,
    shared_file,
    text_message,
    wait_until,
)

pytestmark = pytest.mark.anyio

SPEC_URI = "urn:meta-openapi-v23"
MESSAGES = "/paths/~1{Version}~1{Phone-Number-ID}~1messages/post/responses/200/content/application~1json/schema"
MEDIA_UPLOAD = "/paths/~1{Version}~1{Phone-Number-ID}~1media/post/responses/200/content/application~1json/schema"
MEDIA_GET = "/paths/~1{Version}~1{Media-ID}/get/responses/200/content/application~1json/schema"
MEDIA_DELETE = (
    "/paths/~1{Version}~1{Media-ID}/delete/responses/200/content/application~1json/schema"
)
TEMPLATES_GET = "/paths/~1{Version}~1{WABA-ID}~1message_templates/get/responses/200/content/application~1json/schema"
TEMPLATES_POST = "/paths/~1{Version}~1{WABA-ID}~1message_templates/post/responses/200/content/application~1json/schema"
GRAPH_ERROR = "/components/schemas/GraphAPIError"
ERROR_RESPONSE = "/components/responses/BadRequest/content/application~1json/schema"
WEBHOOK = "/components/schemas/WebhookPayload"


@functools.cache
def _spec() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(shared_file("meta-openapi-v23.yaml").read_text("utf-8"))
    return spec


def _corrected_spec() -> dict[str, Any]:
    """Meta's description with the inbound-webhook schemas repaired.

    1. ``IncomingMessage`` maps ``text``, ``image``, ``reaction``, ``location``... to the
       *send* schemas of the same names (``TextMessage`` etc.), which require ``to`` and
       ``recipient_type`` and forbid ``from``; and every webhook message schema builds on
       ``BaseMessageProperties``, the send envelope. No real inbound message can match (the
       test below shows it on Meta's own webhook example). Inbound messages get the envelope
       of the contract (2.4): ``from``, ``id``, ``timestamp`` (a string), ``type``.
    2. ``Change.field`` lists only ``messages`` and group fields; the contract (2.3, 2.8) and
       pywa's fixtures have ``message_template_status_update`` too, whose value is added
       here in the shape of pywa's fixture.
    """
    spec = copy.deepcopy(_spec())
    schemas = spec["components"]["schemas"]
    schemas["BaseMessageProperties"] = {
        "type": "object",
        "required": ["from", "id", "timestamp", "type"],
        "properties": {
            "from": {"type": "string"},
            "id": {"type": "string"},
            "timestamp": {"type": "string", "pattern": "^[0-9]+$"},
            "type": {"type": "string"},
            "context": {"type": "object"},
        },
    }
    mapping = schemas["IncomingMessage"]["discriminator"]["mapping"]
    send_side = {
        "TextMessage",
        "ReactionMessage",
        "AudioMessage",
        "DocumentMessage",
        "ImageMessage",
        "StickerMessage",
        "VideoMessage",
        "LocationMessage",
    }
    rules: list[dict[str, Any]] = []
    for kind, ref in mapping.items():
        name = ref.rsplit("/", 1)[1]
        then: dict[str, Any] = (
            {"required": [kind], "properties": {kind: {"type": "object"}}}
            if name in send_side
            else {"$ref": ref}
        )
        if kind == "text":
            then = {
                "required": ["text"],
                "properties": {
                    "text": {"required": ["body"], "properties": {"body": {"type": "string"}}}
                },
            }
        rules.append({"if": {"properties": {"type": {"const": kind}}}, "then": then})
    schemas["IncomingMessage"] = {
        "allOf": [
            {"$ref": "#/components/schemas/BaseMessageProperties"},
            {"properties": {"type": {"enum": list(mapping)}}},
            *rules,
        ]
    }
    schemas["TemplateStatusValue"] = {
        "type": "object",
        "required": [
            "event",
            "message_template_id",
            "message_template_name",
            "message_template_language",
            "reason",
        ],
        "properties": {
            "event": {"enum": ["APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED"]},
            "message_template_id": {"type": "integer"},
            "message_template_name": {"type": "string"},
            "message_template_language": {"type": "string"},
            "reason": {"type": "string"},
            "message_template_category": {"type": "string"},
        },
    }
    change = schemas["Change"]
    change["properties"]["field"]["enum"].append("message_template_status_update")
    change["properties"]["value"]["oneOf"].append(
        {"$ref": "#/components/schemas/TemplateStatusValue"}
    )
    return spec


@functools.cache
def _registry(corrected: bool) -> Registry:
    spec = _corrected_spec() if corrected else _spec()
    resource = Resource(contents=spec, specification=DRAFT202012)
    registry: Registry = Registry().with_resource(SPEC_URI, resource)
    return registry


def errors_against(pointer: str, instance: Any, *, corrected: bool = False) -> list[str]:
    validator = Draft202012Validator(
        {"$ref": f"{SPEC_URI}#{pointer}"}, registry=_registry(corrected)
    )
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message[:200]}"
        for error in validator.iter_errors(instance)
    ]


def assert_valid(pointer: str, instance: Any, *, corrected: bool = False) -> None:
    problems = errors_against(pointer, instance, corrected=corrected)
    assert problems == [], f"{pointer}: {problems} in {instance}"


def schema_at(pointer: str) -> dict[str, Any]:
    node: Any = _spec()
    for part in pointer.strip("/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return dict(node)


def assert_known_keys(pointer: str, instance: dict[str, Any]) -> None:
    """Stricter than the schema (which allows any extra key): every key is one Meta names."""
    properties = schema_at(pointer)["properties"]
    assert set(instance) <= set(properties), set(instance) - set(properties)


async def sends_of_every_type(client: httpx.AsyncClient) -> list[httpx.Response]:
    await create_template(client, template_definition(quick_replies=["Abmelden"]))
    media_id = await upload_id(client, PDF, "application/pdf", "a.pdf")
    wamid = await citizen_writes(client)
    bodies = [
        text_message(),
        button_message([("ja", "Ja"), ("nein", "Nein")]),
        message(
            "interactive",
            {
                "type": "list",
                "body": {"text": "Wählen Sie"},
                "action": {
                    "button": "Termine",
                    "sections": [{"rows": [{"id": "a", "title": "A"}]}],
                },
            },
        ),
        message("image", {"link": "https://stadt.example/a.jpg", "caption": "Rathaus"}),
        message("document", {"id": media_id, "filename": "a.pdf"}),
        message("location", {"latitude": 52.5, "longitude": 13.4, "name": "Rathaus"}),
        message("reaction", {"message_id": wamid, "emoji": "👍"}),
        template_send(components=[body_parameters("a", "b", "c"), quick_reply("0", "stop")]),
    ]
    return [await post(client, body) for body in bodies]


async def test_every_send_answer_matches_message_response_payload() -> None:
    async with emulator() as client:
        responses = await sends_of_every_type(client)

    for response in responses:
        assert response.status_code == 200, response.text
        answer = response.json()
        assert_valid(MESSAGES, answer)
        assert_known_keys("/components/schemas/MessageResponsePayload", answer)
        # The schema requires nothing; the contract (1.5) has all three in every answer.
        assert set(answer) == {"messaging_product", "contacts", "messages"}


async def test_the_read_receipt_answer_is_meta_example() -> None:
    # The OpenAPI puts {"success": true} (example "Send typing indicator and read receipt")
    # under the same 200 response as MessageResponsePayload, which requires nothing; the
    # example itself is the stricter check.
    example = schema_at(MESSAGES.rsplit("/schema", 1)[0])["examples"][
        "Send typing indicator and read receipt"
    ]["value"]
    async with emulator() as client:
        wamid = await citizen_writes(client)
        response = await client.post(
            SEND_PATH,
            json={
                "messaging_product": "whatsapp",
                "status": "read",
                "message_id": wamid,
                "typing_indicator": {"type": "text"},
            },
            headers=AUTH,
        )

    assert response.json() == example
    assert_valid(MESSAGES, response.json())


async def test_every_error_answer_matches_graph_api_error() -> None:
    async with emulator() as client:
        await create_template(client, template_definition())
        responses = [
            await client.post(SEND_PATH, json=text_message()),
            await client.post(
                SEND_PATH, json=text_message(), headers={"Authorization": "Bearer x"}
            ),
            await client.post(SEND_PATH, content=b"{", headers=AUTH),
            await client.post("/v23.0/42/messages", json=text_message(), headers=AUTH),
            await post(client, {"messaging_product": "whatsapp", "type": "text"}),
            await post(client, button_message([("a", "A"), ("a", "B")])),
            await post(client, template_send("nope")),
            await post(client, template_send(components=[body_parameters("x")])),
            await upload(client, bytes(6 * 1024 * 1024), "image/png", "big.png"),
            await client.get("/v23.0/123456", headers=AUTH),
            await client.post(TEMPLATES_PATH, json=template_definition(), headers=AUTH),
        ]

    codes = []
    for response in responses:
        assert response.status_code in (400, 401)
        answer = response.json()
        assert_valid(GRAPH_ERROR, answer)
        assert_valid(ERROR_RESPONSE, answer)
        # GraphAPIError has no error_data, which Meta sends with WhatsApp errors (contract
        # 1.7); the schema allows extra keys, and these are the only extra ones.
        known = set(schema_at(GRAPH_ERROR)["properties"]["error"]["properties"]) | {"error_data"}
        assert set(answer["error"]) <= known
        codes.append(answer["error"]["code"])
    assert codes == [104, 190, 100, 100, 131008, 131009, 132001, 132000, 131053, 100, 100]


async def test_media_answers_match_their_schemas() -> None:
    async with emulator() as client:
        uploaded = await upload(client)
        media_id = uploaded.json()["id"]
        retrieved = await client.get(f"/v23.0/{media_id}", headers=AUTH)
        deleted = await client.delete(f"/v23.0/{media_id}", headers=AUTH)

    assert_valid(MEDIA_UPLOAD, uploaded.json())
    assert_known_keys(MEDIA_UPLOAD, uploaded.json())
    # file_size is a string in Meta's schema and example (pywa's docstring shows a number).
    assert_valid(MEDIA_GET, retrieved.json())
    assert_known_keys(MEDIA_GET, retrieved.json())
    assert_valid(MEDIA_DELETE, deleted.json())
    assert_known_keys(MEDIA_DELETE, deleted.json())


async def test_template_answers_match_their_schemas() -> None:
    async with emulator() as client:
        created = await client.post(TEMPLATES_PATH, json=template_definition(), headers=AUTH)
        listed = await client.get(TEMPLATES_PATH, headers=AUTH)

    assert_valid(TEMPLATES_POST, created.json())
    assert_known_keys(TEMPLATES_POST, created.json())
    assert_valid(TEMPLATES_GET, listed.json())
    for template in listed.json()["data"]:
        assert set(template) - {"parameter_format"} <= set(
            schema_at(TEMPLATES_GET)["properties"]["data"]["items"]["properties"]
        )


async def test_status_webhooks_match_webhook_payload_as_published() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url) as client:
        await create_template(client, template_definition())
        wamids = [
            await post(client, text_message()),
            await post(client, template_send(components=[body_parameters("a", "b", "c")])),
        ]
        await client.post(f"/_emulator/users/{CITIZEN}/read")
        await wait_until(lambda: len(hook.statuses) == 6)

    assert all(response.status_code == 200 for response in wamids)
    for received in hook.requests:
        body = received.json()
        if body["entry"][0]["changes"][0]["field"] == "messages":
            assert_valid(WEBHOOK, body)


def test_meta_schema_rejects_its_own_inbound_webhook_example() -> None:
    # Why inbound messages are checked against the corrected copy: the published schema
    # rejects Meta's own "Text Message" webhook example and pywa's fixture alike.
    example = _spec()["paths"]["/whatsapp/webhooks"]["post"]["requestBody"]["content"][
        "application/json"
    ]["examples"]["Text Message"]["value"]
    fixture = yaml.safe_load(shared_file("fixtures/pywa/message.json").read_text("utf-8"))["text"]

    assert errors_against(WEBHOOK, example) != []
    assert errors_against(WEBHOOK, fixture) != []
    assert errors_against(WEBHOOK, example, corrected=True) == []
    assert errors_against(WEBHOOK, fixture, corrected=True) == []


async def test_inbound_message_webhooks_match_the_corrected_schema() -> None:
    async with (
        receiver() as hook,
        emulator(webhook_url=hook.url, sent_delay=5.0, delivered_delay=5.0) as client,
    ):
        await create_template(client, template_definition(quick_replies=["Abmelden"]))
        buttons = await post(client, button_message([("ja", "Ja")]))
        rows = await post(
            client,
            message(
                "interactive",
                {
                    "type": "list",
                    "body": {"text": "Wählen Sie"},
                    "action": {
                        "button": "Termine",
                        "sections": [{"rows": [{"id": "a", "title": "A", "description": "früh"}]}],
                    },
                },
            ),
        )
        template = await post(client, template_send(components=[body_parameters("a", "b", "c")]))
        sends = [
            {"type": "text", "text": "Wann kommt die Biotonne?"},
            {"type": "button_reply", "id": "ja", "context_id": buttons.json()["messages"][0]["id"]},
            {"type": "list_reply", "id": "a", "context_id": rows.json()["messages"][0]["id"]},
            {
                "type": "button",
                "text": "Abmelden",
                "context_id": template.json()["messages"][0]["id"],
            },
        ]
        for body in sends:
            response = await client.post(f"/_emulator/users/{CITIZEN}/send", json=body)
            assert response.status_code == 200, response.text
        await wait_until(lambda: len(hook.requests) >= 5)
        messages = await chat(client)

    inbound = [r.json() for r in hook.requests if "messages" in r.value()]
    assert [body["entry"][0]["changes"][0]["value"]["messages"][0]["type"] for body in inbound] == [
        "text",
        "interactive",
        "interactive",
        "button",
    ]
    for body in inbound:
        assert_valid(WEBHOOK, body, corrected=True)
    assert len(messages) == 7


async def test_the_template_status_webhook_matches_the_corrected_schema() -> None:
    fixture = yaml.safe_load(
        shared_file("fixtures/pywa/template_status_update.json").read_text("utf-8")
    )["approved"]
    async with receiver() as hook, emulator(webhook_url=hook.url) as client:
        await create_template(client, template_definition())
        await wait_until(lambda: len(hook.requests) == 1)

    # The published Change.field enum has no message_template_status_update.
    assert errors_against(WEBHOOK, fixture) != []
    assert_valid(WEBHOOK, fixture, corrected=True)
    assert_valid(WEBHOOK, hook.requests[0].json(), corrected=True)


async def test_uploads_by_form_match_the_documented_request() -> None:
    # The OpenAPI documents the upload as multipart/form-data with file and
    # messaging_product; the contract (1.6) adds type, which Meta requires.
    form = schema_at(
        "/paths/~1{Version}~1{Phone-Number-ID}~1media/post/requestBody/content/multipart~1form-data/schema"
    )
    async with emulator() as client:
        response = await client.post(
            MEDIA_PATH,
            files={
                "file": ("a.pdf", PDF, "application/pdf"),
                "messaging_product": (None, "whatsapp"),
                "type": (None, "application/pdf"),
            },
            headers=AUTH,
        )

    assert set(form["properties"]) == {"file", "messaging_product"}
    assert response.status_code == 200
    assert PHONE_NUMBER_ID in MEDIA_PATH
