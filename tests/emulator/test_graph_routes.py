"""Every Graph route: any v{N}.{M} version, and the token checked before anything else."""

from __future__ import annotations

import pytest

from .content_support import PNG, TEMPLATES_PATH, upload_id
from .support import AUTH, BUSINESS_ACCOUNT_ID, PHONE_NUMBER_ID, emulator, error_of

pytestmark = pytest.mark.anyio

UPLOAD_FILES = {
    "file": ("a.png", PNG, "image/png"),
    "type": (None, "image/png"),
    "messaging_product": (None, "whatsapp"),
}


@pytest.mark.parametrize("version", ["v17.0", "v23.0", "v25.0", "v99.12"])
async def test_every_route_accepts_any_version(version: str) -> None:
    async with emulator() as client:
        uploaded = await client.post(
            f"/{version}/{PHONE_NUMBER_ID}/media", files=UPLOAD_FILES, headers=AUTH
        )
        media_id = uploaded.json()["id"]
        retrieved = await client.get(f"/{version}/{media_id}", headers=AUTH)
        listed = await client.get(
            f"/{version}/{BUSINESS_ACCOUNT_ID}/message_templates", headers=AUTH
        )
        deleted = await client.delete(f"/{version}/{media_id}", headers=AUTH)

    assert [r.status_code for r in (uploaded, retrieved, listed, deleted)] == [200] * 4


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", f"/v23.0/{PHONE_NUMBER_ID}/media"),
        ("GET", "/v23.0/{media_id}"),
        ("DELETE", "/v23.0/{media_id}"),
        ("GET", TEMPLATES_PATH),
        ("POST", TEMPLATES_PATH),
        ("DELETE", TEMPLATES_PATH + "?name=hello_world"),
        ("GET", "/whatsapp_business/attachments/?mid={media_id}"),
    ],
)
@pytest.mark.parametrize(
    ("headers", "code"),
    [({}, 104), ({"Authorization": "Bearer falsch"}, 190), ({"Authorization": "Basic eA=="}, 190)],
)
async def test_every_route_checks_the_token_first(
    method: str, path: str, headers: dict[str, str], code: int
) -> None:
    async with emulator() as client:
        media_id = await upload_id(client)
        response = await client.request(
            method, path.format(media_id=media_id), content=b"{not json", headers=headers
        )
        still_there = await client.get(f"/v23.0/{media_id}", headers=AUTH)
        templates = (await client.get(TEMPLATES_PATH, headers=AUTH)).json()["data"]

    assert response.status_code == 401
    error = error_of(response)
    assert error["code"] == code
    assert error["type"] == "OAuthException"
    assert still_there.status_code == 200
    assert [t["name"] for t in templates] == ["hello_world"]


@pytest.mark.parametrize("path", ["/latest/123", "/v23/123", "/23.0/123"])
async def test_a_path_without_a_version_is_not_a_graph_object(path: str) -> None:
    async with emulator() as client:
        response = await client.get(path, headers=AUTH)

    assert response.status_code == 404


async def test_the_control_api_is_not_taken_for_a_graph_object() -> None:
    async with emulator() as client:
        health = await client.get("/_emulator/health")
        templates = await client.get("/_emulator/templates")

    assert health.json() == {"ok": True}
    assert templates.status_code == 200
