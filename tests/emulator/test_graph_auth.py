"""Token and path checks on the send route, in the order Graph API applies them."""

from __future__ import annotations

import pytest

from .support import AUTH, PHONE_NUMBER_ID, SEND_PATH, emulator, error_of, text_message

pytestmark = pytest.mark.anyio


async def test_it_rejects_a_missing_token() -> None:
    async with emulator() as client:
        response = await client.post(SEND_PATH, json=text_message())

    assert response.status_code == 401
    error = error_of(response)
    assert error["code"] == 104
    assert error["type"] == "OAuthException"
    assert error["message"] == "An access token is required to request this resource"


async def test_it_rejects_a_wrong_token() -> None:
    async with emulator() as client:
        response = await client.post(
            SEND_PATH, json=text_message(), headers={"Authorization": "Bearer nope"}
        )

    assert response.status_code == 401
    error = error_of(response)
    assert error["code"] == 190
    assert error["message"] == "Invalid OAuth access token"


async def test_it_rejects_the_right_token_without_the_bearer_scheme() -> None:
    async with emulator() as client:
        token = AUTH["Authorization"].removeprefix("Bearer ")
        response = await client.post(
            SEND_PATH, json=text_message(), headers={"Authorization": token}
        )

    assert response.status_code == 401
    assert error_of(response)["code"] == 190


async def test_it_checks_the_token_before_anything_else() -> None:
    async with emulator() as client:
        response = await client.post("/v23.0/999/messages", content=b"{not json")

    assert response.status_code == 401
    assert error_of(response)["code"] == 104


async def test_it_rejects_an_unknown_phone_number_id() -> None:
    async with emulator() as client:
        response = await client.post("/v23.0/999/messages", json=text_message(), headers=AUTH)

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 100
    assert error["type"] == "GraphMethodException"
    assert error["message"].startswith(
        "Unsupported post request. Object with ID '999' does not exist"
    )
    assert error["error_data"]["messaging_product"] == "whatsapp"


@pytest.mark.parametrize("version", ["v17.0", "v23.0", "v25.0"])
async def test_it_accepts_any_graph_api_version(version: str) -> None:
    async with emulator() as client:
        response = await client.post(
            f"/{version}/{PHONE_NUMBER_ID}/messages", json=text_message(), headers=AUTH
        )

    assert response.status_code == 200


async def test_it_rejects_a_path_that_is_not_a_version() -> None:
    async with emulator() as client:
        response = await client.post(
            f"/latest/{PHONE_NUMBER_ID}/messages", json=text_message(), headers=AUTH
        )

    assert response.status_code == 400
    assert "version" in error_of(response)["error_data"]["details"]
