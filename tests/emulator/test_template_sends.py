"""Sending templates: name and language, parameters per placeholder, buttons, the chat."""

from __future__ import annotations

from typing import Any

import pytest

from .content_support import (
    body_parameters,
    chat,
    create_template,
    message,
    post,
    quick_reply,
    template_definition,
    template_send,
    upload_id,
)
from .support import CITIZEN, emulator, error_of, receiver, send, wait_until

pytestmark = pytest.mark.anyio

ABHOLUNG = body_parameters("Erika", "Hof", "Biotonne")


async def test_it_sends_a_template_and_records_the_filled_text() -> None:
    async with emulator() as client:
        await create_template(
            client, template_definition(header="Abfall in {{1}}", footer="Ihre Stadtverwaltung")
        )
        response = await post(
            client,
            template_send(
                components=[
                    {"type": "header", "parameters": [{"type": "text", "text": "Musterstadt"}]},
                    ABHOLUNG,
                ]
            ),
        )
        [sent] = await chat(client)

    assert response.status_code == 200
    body = response.json()
    assert body["contacts"] == [{"input": CITIZEN, "wa_id": CITIZEN}]
    assert body["messages"][0]["message_status"] == "accepted"
    assert sent["type"] == "template"
    assert sent["text"] == "Hallo Erika, morgen wird im Hof die Biotonne abgeholt."
    assert sent["template"] == {
        "name": "abfallkalender",
        "language": "de",
        "category": "UTILITY",
        "header": {"format": "TEXT", "text": "Abfall in Musterstadt"},
        "body": "Hallo Erika, morgen wird im Hof die Biotonne abgeholt.",
        "footer": "Ihre Stadtverwaltung",
        "buttons": [],
    }


async def test_meta_sample_hello_world_needs_no_parameters() -> None:
    async with emulator() as client:
        response = await post(client, template_send("hello_world", "en_US"))
        [sent] = await chat(client)

    assert response.status_code == 200
    assert sent["template"]["header"] == {"format": "TEXT", "text": "Hello World"}


async def test_an_unknown_name_or_language_is_132001() -> None:
    async with emulator() as client:
        await create_template(client, template_definition())
        wrong_name = await post(client, template_send("abfall", components=[ABHOLUNG]))
        wrong_language = await post(client, template_send(language="en", components=[ABHOLUNG]))

    for response in (wrong_name, wrong_language):
        assert response.status_code == 400
        error = error_of(response)
        assert error["code"] == 132001
        assert error["message"] == "(#132001) Template name does not exist in the translation"
    assert error_of(wrong_language)["error_data"]["details"] == (
        "template name (abfallkalender) does not exist in en"
    )


@pytest.mark.parametrize("count", [0, 2, 4])
async def test_the_wrong_number_of_body_parameters_is_132000(count: int) -> None:
    components = [body_parameters(*["x"] * count)] if count else []
    async with emulator() as client:
        await create_template(client, template_definition())
        response = await post(client, template_send(components=components))

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 132000
    assert error["message"] == (
        "(#132000) Number of parameters does not match the expected number of params"
    )
    assert f"({count})" in error["error_data"]["details"]


async def test_parameters_for_a_part_without_placeholders_are_132000() -> None:
    async with emulator() as client:
        response = await post(
            client,
            template_send(
                "hello_world",
                "en_US",
                components=[{"type": "header", "parameters": [{"type": "text", "text": "x"}]}],
            ),
        )

    assert error_of(response)["code"] == 132000


async def test_currency_and_date_time_fill_in_their_fallback_values() -> None:
    components = [
        {
            "type": "body",
            "parameters": [
                {"type": "text", "text": "Erika"},
                {
                    "type": "currency",
                    "currency": {"fallback_value": "12,50 €", "code": "EUR", "amount_1000": 12500},
                },
                {"type": "date_time", "date_time": {"fallback_value": "3. März 2027"}},
            ],
        }
    ]
    async with emulator() as client:
        await create_template(
            client, template_definition(name="gebuehr", body="{{1}} zahlt {{2}} bis {{3}}.")
        )
        response = await post(client, template_send("gebuehr", components=components))
        [sent] = await chat(client)

    assert response.status_code == 200
    assert sent["text"] == "Erika zahlt 12,50 € bis 3. März 2027."


async def test_named_parameters_fill_their_placeholders_in_any_order() -> None:
    definition = {
        "name": "termin",
        "language": "de",
        "category": "UTILITY",
        "parameter_format": "NAMED",
        "components": [
            {
                "type": "BODY",
                "text": "Hallo {{vorname}}, Ihr Termin ist am {{datum}}.",
                "example": {
                    "body_text_named_params": [
                        {"param_name": "vorname", "example": "Erika"},
                        {"param_name": "datum", "example": "3. März"},
                    ]
                },
            }
        ],
    }

    def named(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
        parameters = [
            {"type": "text", "text": text, "parameter_name": name} for name, text in pairs
        ]
        return [{"type": "body", "parameters": parameters}]

    async with emulator() as client:
        await create_template(client, definition)
        ok = await post(
            client,
            template_send("termin", components=named(("datum", "Montag"), ("vorname", "Ali"))),
        )
        unnamed = await post(
            client, template_send("termin", components=[body_parameters("a", "b")])
        )
        unknown = await post(
            client, template_send("termin", components=named(("vorname", "A"), ("uhrzeit", "9")))
        )
        [sent] = await chat(client)

    assert ok.status_code == 200
    assert sent["text"] == "Hallo Ali, Ihr Termin ist am Montag."
    assert error_of(unnamed)["code"] == 132000
    assert error_of(unknown)["code"] == 132000


async def test_quick_reply_buttons_are_recorded_for_the_phone() -> None:
    async with emulator() as client:
        await create_template(client, template_definition(quick_replies=["Abmelden", "Mehr Infos"]))
        response = await post(
            client, template_send(components=[ABHOLUNG, quick_reply("0", "stop:abfall")])
        )
        [sent] = await chat(client)

    assert response.status_code == 200
    assert sent["template"]["buttons"] == [
        {"type": "quick_reply", "index": "0", "text": "Abmelden", "payload": "stop:abfall"},
        # Without a payload in the send, the tap answers with the button text.
        {"type": "quick_reply", "index": "1", "text": "Mehr Infos", "payload": "Mehr Infos"},
    ]


async def test_a_numeric_button_index_is_accepted_as_meta_and_pywa_send_it() -> None:
    async with emulator() as client:
        await create_template(client, template_definition(quick_replies=["Abmelden"]))
        response = await post(client, template_send(components=[ABHOLUNG, quick_reply(0, "stop")]))

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("button", "code"),
    [
        ({"type": "button", "index": "0", "parameters": []}, 131008),
        ({"type": "button", "sub_type": "quick_reply", "parameters": []}, 131008),
        ({**quick_reply("0", "p"), "index": "10"}, 131009),
        ({**quick_reply("0", "p"), "index": "eins"}, 131009),
        ({**quick_reply("0", "p"), "index": -1}, 131009),
        (quick_reply("1", "p"), 131009),
        ({**quick_reply("0", "p"), "sub_type": "url"}, 131009),
        (
            {
                **quick_reply("0", "p"),
                "parameters": [
                    {"type": "payload", "payload": "a"},
                    {"type": "payload", "payload": "b"},
                ],
            },
            132000,
        ),
        ({**quick_reply("0", "p"), "parameters": [{"type": "text", "text": "p"}]}, 132012),
    ],
)
async def test_button_components_must_match_the_template(button: dict[str, Any], code: int) -> None:
    async with emulator() as client:
        await create_template(client, template_definition(quick_replies=["Abmelden"]))
        response = await post(client, template_send(components=[ABHOLUNG, button]))

    assert response.status_code == 400
    assert error_of(response)["code"] == code


async def test_the_same_button_index_twice_is_131009() -> None:
    async with emulator() as client:
        await create_template(client, template_definition(quick_replies=["A", "B"]))
        response = await post(
            client, template_send(components=[ABHOLUNG, quick_reply("0", "a"), quick_reply(0, "b")])
        )

    assert error_of(response)["code"] == 131009


async def test_a_url_button_with_a_variable_needs_its_suffix() -> None:
    url_button = {
        "type": "button",
        "sub_type": "url",
        "index": "0",
        "parameters": [{"type": "text", "text": "biotonne"}],
    }
    async with emulator() as client:
        await create_template(client, template_definition(url="https://stadt.example/abfall/{{1}}"))
        without = await post(client, template_send(components=[ABHOLUNG]))
        response = await post(client, template_send(components=[ABHOLUNG, url_button]))
        [sent] = await chat(client)

    assert error_of(without)["code"] == 132000
    assert response.status_code == 200
    assert sent["template"]["buttons"] == [
        {
            "type": "url",
            "index": "0",
            "text": "Mehr erfahren",
            "url": "https://stadt.example/abfall/biotonne",
        }
    ]


async def test_a_media_header_takes_an_uploaded_image_or_a_link() -> None:
    definition = template_definition(name="baustelle", body="Baustelle {{1}}", examples=["A1"])
    definition["components"].insert(0, {"type": "HEADER", "format": "IMAGE"})

    def header(parameter: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"type": "header", "parameters": [parameter]}, body_parameters("Hauptstraße")]

    async with emulator() as client:
        await create_template(client, definition)
        media_id = await upload_id(client)
        by_id = await post(
            client,
            template_send(
                "baustelle", components=header({"type": "image", "image": {"id": media_id}})
            ),
        )
        by_link = await post(
            client,
            template_send(
                "baustelle",
                components=header(
                    {"type": "image", "image": {"link": "https://stadt.example/b.jpg"}}
                ),
            ),
        )
        unknown = await post(
            client,
            template_send("baustelle", components=header({"type": "image", "image": {"id": "7"}})),
        )
        wrong_kind = await post(
            client,
            template_send(
                "baustelle",
                components=header(
                    {"type": "document", "document": {"link": "https://x.example/a.pdf"}}
                ),
            ),
        )
        missing = await post(client, template_send("baustelle", components=[body_parameters("x")]))
        first, _ = await chat(client)

    assert by_id.status_code == 200
    assert by_link.status_code == 200
    assert first["template"]["header"] == {
        "format": "IMAGE",
        "media": {"id": media_id, "mime_type": "image/png"},
    }
    assert error_of(unknown)["code"] == 131009
    assert error_of(wrong_kind)["code"] == 132012
    assert error_of(missing)["code"] == 132000


@pytest.mark.parametrize(
    ("template", "mention"),
    [
        ({"language": {"code": "de"}}, "template['name']"),
        ({"name": "abfallkalender"}, "template['language']"),
        ({"name": "abfallkalender", "language": {}}, "template['language']['code']"),
        ({"name": "abfallkalender", "language": {"code": "de", "policy": "fallback"}}, "policy"),
        ({"name": "abfallkalender", "language": {"code": "de"}, "components": {}}, "components"),
        (
            {
                "name": "abfallkalender",
                "language": {"code": "de"},
                "components": [{"type": "footer"}],
            },
            "footer",
        ),
        (
            {
                "name": "abfallkalender",
                "language": {"code": "de"},
                "components": [{"type": "body", "parameters": [{"type": "sticker"}]}],
            },
            "sticker",
        ),
        (
            {
                "name": "abfallkalender",
                "language": {"code": "de"},
                "components": [{"type": "body", "parameters": [{"type": "text", "text": True}]}],
            },
            "text",
        ),
    ],
)
async def test_it_checks_the_template_object(template: dict[str, Any], mention: str) -> None:
    async with emulator() as client:
        response = await post(client, message("template", template))

    assert response.status_code == 400
    assert mention in error_of(response)["error_data"]["details"]


async def test_template_statuses_are_priced_in_the_template_category() -> None:
    async with receiver() as hook, emulator(webhook_url=hook.url) as client:
        await create_template(client, template_definition(category="MARKETING"))
        wamid = await send(client, template_send(components=[ABHOLUNG]))
        await wait_until(lambda: any(s["id"] == wamid for s in hook.statuses))

    [status, *_] = [status for status in hook.statuses if status["id"] == wamid]
    assert status["pricing"]["category"] == "marketing"
    assert status["pricing"]["pricing_model"] == "PMP"
