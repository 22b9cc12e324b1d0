"""Interactive list messages and their limits from Meta's OpenAPI and guides."""

from __future__ import annotations

from typing import Any

import pytest

from .content_support import chat, message, post
from .support import emulator, error_of

pytestmark = pytest.mark.anyio


def rows(count: int, prefix: str = "row") -> list[dict[str, str]]:
    return [{"id": f"{prefix}{n}", "title": f"Termin {n}"} for n in range(count)]


def list_message(
    sections: list[dict[str, Any]], button: str = "Termine", body: str = "Wann passt es Ihnen?"
) -> dict[str, Any]:
    return message(
        "interactive",
        {
            "type": "list",
            "body": {"text": body},
            "action": {"button": button, "sections": sections},
        },
    )


async def test_it_accepts_a_list_with_header_footer_and_two_sections() -> None:
    body = list_message(
        [
            {
                "title": "Vormittag",
                "rows": [{"id": "am", "title": "9 Uhr", "description": "Bürgeramt"}],
            },
            {"title": "Nachmittag", "rows": [{"id": "pm", "title": "15 Uhr"}]},
        ]
    )
    body["interactive"]["header"] = {"type": "text", "text": "Bürgeramt Mitte"}
    body["interactive"]["footer"] = {"text": "Antworten Sie STOP zum Abmelden"}
    async with emulator() as client:
        response = await post(client, body)
        [sent] = await chat(client)

    assert response.status_code == 200
    assert sent["type"] == "interactive"
    assert sent["interactive"] == body["interactive"]


async def test_a_single_section_needs_no_title() -> None:
    async with emulator() as client:
        response = await post(client, list_message([{"rows": rows(3)}]))

    assert response.status_code == 200


async def test_each_of_several_sections_needs_a_title() -> None:
    async with emulator() as client:
        response = await post(
            client, list_message([{"title": "A", "rows": rows(1, "a")}, {"rows": rows(1, "b")}])
        )

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 131008
    assert "sections'][1]['title']" in error["error_data"]["details"]


async def test_it_accepts_ten_rows_in_total() -> None:
    sections = [{"title": f"S{n}", "rows": rows(2, f"s{n}-")} for n in range(5)]
    async with emulator() as client:
        response = await post(client, list_message(sections))

    assert response.status_code == 200


async def test_it_rejects_eleven_rows_across_sections() -> None:
    sections = [{"title": "A", "rows": rows(6, "a")}, {"title": "B", "rows": rows(5, "b")}]
    async with emulator() as client:
        response = await post(client, list_message(sections))

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 131009
    assert "rows" in error["error_data"]["details"]


async def test_it_rejects_eleven_sections() -> None:
    sections = [{"title": f"S{n}", "rows": rows(1, f"s{n}")} for n in range(11)]
    async with emulator() as client:
        response = await post(client, list_message(sections))

    assert response.status_code == 400
    assert "sections" in error_of(response)["error_data"]["details"]


async def test_it_rejects_no_sections_and_empty_sections() -> None:
    async with emulator() as client:
        none = await post(client, list_message([]))
        empty = await post(client, list_message([{"title": "Leer", "rows": []}]))

    assert error_of(none)["code"] == 131009
    assert error_of(empty)["code"] == 131009


async def test_duplicate_row_ids_are_error_131009() -> None:
    sections = [
        {"title": "A", "rows": [{"id": "same", "title": "Eins"}]},
        {"title": "B", "rows": [{"id": "same", "title": "Zwei"}]},
    ]
    async with emulator() as client:
        response = await post(client, list_message(sections))

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 131009
    assert error["error_data"]["details"] == "Duplicate row id"


@pytest.mark.parametrize(
    ("row", "accepted"),
    [
        ({"id": "i" * 200, "title": "t"}, True),
        ({"id": "i" * 201, "title": "t"}, False),
        ({"id": "i", "title": "t" * 24}, True),
        ({"id": "i", "title": "t" * 25}, False),
        ({"id": "i", "title": "t", "description": "d" * 72}, True),
        ({"id": "i", "title": "t", "description": "d" * 73}, False),
    ],
)
async def test_row_limits(row: dict[str, str], accepted: bool) -> None:
    async with emulator() as client:
        response = await post(client, list_message([{"rows": [row]}]))

    assert (response.status_code == 200) is accepted
    if not accepted:
        assert error_of(response)["code"] == 131009


@pytest.mark.parametrize(("length", "accepted"), [(24, True), (25, False)])
async def test_section_title_limit(length: int, accepted: bool) -> None:
    async with emulator() as client:
        response = await post(client, list_message([{"title": "s" * length, "rows": rows(1)}]))

    assert (response.status_code == 200) is accepted


@pytest.mark.parametrize(("length", "accepted"), [(20, True), (21, False)])
async def test_button_text_limit(length: int, accepted: bool) -> None:
    async with emulator() as client:
        response = await post(client, list_message([{"rows": rows(1)}], button="b" * length))

    assert (response.status_code == 200) is accepted


@pytest.mark.parametrize(("length", "accepted"), [(1024, True), (1025, False)])
async def test_body_text_limit_of_the_openapi_body_object(length: int, accepted: bool) -> None:
    # BodyObject.text has maxLength 1024 for every interactive type, lists included.
    async with emulator() as client:
        response = await post(client, list_message([{"rows": rows(1)}], body="b" * length))

    assert (response.status_code == 200) is accepted


@pytest.mark.parametrize("missing", ["button", "sections"])
async def test_button_and_sections_are_required(missing: str) -> None:
    body = list_message([{"rows": rows(1)}])
    del body["interactive"]["action"][missing]
    async with emulator() as client:
        response = await post(client, body)

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 131008
    assert missing in error["error_data"]["details"]


@pytest.mark.parametrize("missing", ["id", "title"])
async def test_rows_need_id_and_title(missing: str) -> None:
    row = {"id": "a", "title": "A"}
    del row[missing]
    async with emulator() as client:
        response = await post(client, list_message([{"rows": [row]}]))

    assert response.status_code == 400
    assert f"['rows'][0]['{missing}']" in error_of(response)["error_data"]["details"]
