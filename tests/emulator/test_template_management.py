"""Creating, listing and deleting message templates through the Graph API."""

from __future__ import annotations

from typing import Any

import pytest

from .content_support import TEMPLATES_PATH, create_template, template_definition
from .support import AUTH, emulator, error_of

pytestmark = pytest.mark.anyio


async def test_creating_answers_like_meta() -> None:
    async with emulator(auto_approve_templates=False) as client:
        response = await client.post(TEMPLATES_PATH, json=template_definition(), headers=AUTH)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "status", "category"}
    assert body["id"].isdigit()
    assert body["status"] == "PENDING"
    assert body["category"] == "UTILITY"


async def test_an_auto_approved_template_is_created_approved() -> None:
    async with emulator() as client:
        created = await create_template(client, template_definition())

    assert created["status"] == "APPROVED"


async def test_the_same_name_and_language_cannot_be_created_twice() -> None:
    async with emulator() as client:
        await create_template(client, template_definition())
        response = await client.post(TEMPLATES_PATH, json=template_definition(), headers=AUTH)

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 100
    assert error["error_subcode"] == 2388024
    assert error["error_user_title"] == "Message template already exists"


async def test_the_same_name_may_exist_in_another_language() -> None:
    async with emulator() as client:
        await create_template(client, template_definition(language="de"))
        response = await client.post(
            TEMPLATES_PATH, json=template_definition(language="en_US"), headers=AUTH
        )

    assert response.status_code == 200


async def test_the_list_shows_every_template_with_its_status() -> None:
    async with emulator(auto_approve_templates=False) as client:
        created = await create_template(client, template_definition(footer="Ihre Stadt"))
        response = await client.get(TEMPLATES_PATH, headers=AUTH)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"data", "paging"}
    by_name = {template["name"]: template for template in body["data"]}
    # Meta puts hello_world into every new account.
    assert by_name["hello_world"]["status"] == "APPROVED"
    mine = by_name["abfallkalender"]
    assert mine["id"] == created["id"]
    assert mine["status"] == "PENDING"
    assert mine["language"] == "de"
    assert mine["category"] == "UTILITY"
    assert mine["parameter_format"] == "POSITIONAL"
    assert [component["type"] for component in mine["components"]] == ["BODY", "FOOTER"]
    assert body["paging"]["cursors"]["before"]


async def test_the_list_filters_by_name_status_category_and_language() -> None:
    async with emulator() as client:
        await create_template(client, template_definition(name="wahl_info", category="MARKETING"))
        await create_template(client, template_definition(name="wahl_info", language="en"))

        async def names(**query: str) -> list[tuple[str, str]]:
            answer = (await client.get(TEMPLATES_PATH, params=query, headers=AUTH)).json()
            return [(template["name"], template["language"]) for template in answer["data"]]

        by_name = await names(name="wahl")
        by_category = await names(category="MARKETING")
        by_language = await names(language="en")
        by_status = await names(status="REJECTED")

    assert by_name == [("wahl_info", "de"), ("wahl_info", "en")]
    assert ("wahl_info", "de") in by_category
    assert ("wahl_info", "en") not in by_category
    assert by_language == [("wahl_info", "en")]
    assert by_status == []


async def test_the_list_pages_with_cursors_and_gives_a_summary() -> None:
    async with emulator() as client:
        for number in range(4):
            await create_template(client, template_definition(name=f"info_{number}"))
        first = (await client.get(TEMPLATES_PATH, params={"limit": 2}, headers=AUTH)).json()
        after = first["paging"]["cursors"]["after"]
        second = (
            await client.get(
                TEMPLATES_PATH,
                params={"limit": 2, "after": after, "summary": "total_count"},
                headers=AUTH,
            )
        ).json()

    assert len(first["data"]) == 2
    assert "next" in first["paging"]
    assert [t["name"] for t in second["data"]] == ["info_1", "info_2"]
    assert second["summary"]["total_count"] == 5
    assert "previous" in second["paging"]


async def test_a_template_can_be_read_by_its_id() -> None:
    async with emulator() as client:
        created = await create_template(client, template_definition())
        response = await client.get(f"/v23.0/{created['id']}", headers=AUTH)

    assert response.status_code == 200
    assert response.json()["name"] == "abfallkalender"


async def test_deleting_by_name_removes_every_language() -> None:
    async with emulator() as client:
        await create_template(client, template_definition(language="de"))
        await create_template(client, template_definition(language="en"))
        deleted = await client.delete(
            TEMPLATES_PATH, params={"name": "abfallkalender"}, headers=AUTH
        )
        left = (await client.get(TEMPLATES_PATH, headers=AUTH)).json()["data"]
        again = await client.delete(TEMPLATES_PATH, params={"name": "abfallkalender"}, headers=AUTH)

    assert deleted.json() == {"success": True}
    assert [t["name"] for t in left] == ["hello_world"]
    assert again.status_code == 400


async def test_deleting_by_id_removes_one_language() -> None:
    async with emulator() as client:
        german = await create_template(client, template_definition(language="de"))
        await create_template(client, template_definition(language="en"))
        await client.delete(
            TEMPLATES_PATH, params={"name": "abfallkalender", "hsm_id": german["id"]}, headers=AUTH
        )
        left = (await client.get(TEMPLATES_PATH, params={"name": "abfall"}, headers=AUTH)).json()

    assert [t["language"] for t in left["data"]] == ["en"]


@pytest.mark.parametrize(
    ("change", "mention"),
    [
        ({"name": "Abfall-Kalender"}, "name"),
        ({"name": ""}, "name"),
        ({"language": "deutsch"}, "language"),
        ({"category": "NEWS"}, "category"),
        ({"components": []}, "components"),
        ({"parameter_format": "FREE"}, "parameter_format"),
    ],
)
async def test_it_rejects_a_malformed_definition(change: dict[str, Any], mention: str) -> None:
    async with emulator() as client:
        response = await client.post(
            TEMPLATES_PATH, json={**template_definition(), **change}, headers=AUTH
        )

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 100
    assert mention in error["error_data"]["details"]


@pytest.mark.parametrize("missing", ["name", "language", "category", "components"])
async def test_it_names_a_missing_field(missing: str) -> None:
    definition = template_definition()
    del definition[missing]
    async with emulator() as client:
        response = await client.post(TEMPLATES_PATH, json=definition, headers=AUTH)

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 131008
    assert missing in error["error_data"]["details"]


@pytest.mark.parametrize(
    "body",
    [
        "Hallo {{2}}",
        "Hallo {{1}} und {{3}}",
        "Hallo {{name}}",
        "Hallo {{ 1 }}",
    ],
)
async def test_positional_variables_must_be_numbered_without_gaps(body: str) -> None:
    async with emulator() as client:
        response = await client.post(
            TEMPLATES_PATH, json=template_definition(body=body, examples=["a"] * 3), headers=AUTH
        )

    assert response.status_code == 400
    assert "variables" in error_of(response)["error_data"]["details"]


async def test_variables_need_examples() -> None:
    definition = template_definition()
    del definition["components"][0]["example"]
    async with emulator() as client:
        missing = await client.post(TEMPLATES_PATH, json=definition, headers=AUTH)
        wrong_count = await client.post(
            TEMPLATES_PATH,
            json=template_definition(name="zwei", examples=["nur eins"]),
            headers=AUTH,
        )

    assert error_of(missing)["code"] == 131008
    assert "example" in error_of(missing)["error_data"]["details"]
    assert "example" in error_of(wrong_count)["error_data"]["details"]


async def test_named_variables_with_their_examples() -> None:
    definition = {
        "name": "sperrmuell",
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
    async with emulator() as client:
        response = await client.post(TEMPLATES_PATH, json=definition, headers=AUTH)

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("buttons", "mention"),
    [
        ([{"type": "QUICK_REPLY", "text": "x" * 26}], "text"),
        ([{"type": "OTP", "otp_type": "COPY_CODE", "text": "Code"}], "OTP"),
        ([{"type": "URL", "text": "Web", "url": "ftp://example.org"}], "url"),
        ([{"type": "URL", "text": "Web", "url": "https://example.org/{{1}}/x"}], "url"),
        ([{"type": "QUICK_REPLY", "text": "Ja"}, {"type": "QUICK_REPLY", "text": "Ja"}], "buttons"),
        ([{"type": "QUICK_REPLY", "text": f"B{n}"} for n in range(11)], "buttons"),
    ],
)
async def test_it_checks_the_buttons(buttons: list[dict[str, str]], mention: str) -> None:
    definition = template_definition()
    definition["components"].append({"type": "BUTTONS", "buttons": buttons})
    async with emulator() as client:
        response = await client.post(TEMPLATES_PATH, json=definition, headers=AUTH)

    assert response.status_code == 400
    assert mention in error_of(response)["error_data"]["details"]


async def test_another_business_account_is_not_found() -> None:
    async with emulator() as client:
        response = await client.get("/v23.0/42/message_templates", headers=AUTH)

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 100
    assert error["message"].startswith("Unsupported get request. Object with ID '42'")


async def test_invalid_json_is_error_100() -> None:
    async with emulator() as client:
        response = await client.post(TEMPLATES_PATH, content=b"{", headers=AUTH)

    assert error_of(response)["code"] == 100
