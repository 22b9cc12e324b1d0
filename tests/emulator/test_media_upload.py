"""Uploading media, reading its URL, downloading it with the token and deleting it."""

from __future__ import annotations

import hashlib
import os

import pytest

from whatsapp_emulator.config import EmulatorConfig

from .content_support import MEDIA_PATH, PDF, PNG, upload, upload_id
from .support import AUTH, PHONE_NUMBER_ID, emulator, error_of, make_config

pytestmark = pytest.mark.anyio

MB = 1024 * 1024


async def test_an_upload_answers_with_a_numeric_id() -> None:
    async with emulator() as client:
        response = await upload(client)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id"}
    assert body["id"].isdigit()


async def test_the_media_url_describes_the_file() -> None:
    async with emulator() as client:
        media_id = await upload_id(client, PDF, "application/pdf", "amtsblatt.pdf")
        response = await client.get(f"/v23.0/{media_id}", headers=AUTH)

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "messaging_product": "whatsapp",
        "url": body["url"],
        "mime_type": "application/pdf",
        "sha256": hashlib.sha256(PDF).hexdigest(),
        "file_size": str(len(PDF)),
        "id": media_id,
    }
    assert body["url"].startswith("http://emulator/whatsapp_business/attachments/?mid=")


async def test_the_url_gives_the_exact_bytes_with_the_token() -> None:
    data = os.urandom(3000) + b"\r\n--boundary\r\n\r\n" + os.urandom(3000)
    async with emulator() as client:
        media_id = await upload_id(client, data, "image/jpeg", "foto.jpg")
        url = (await client.get(f"/v23.0/{media_id}", headers=AUTH)).json()["url"]
        download = await client.get(url, headers=AUTH)

    assert download.status_code == 200
    assert download.content == data
    assert download.headers["content-type"] == "image/jpeg"


async def test_the_download_needs_the_token() -> None:
    async with emulator() as client:
        media_id = await upload_id(client)
        url = (await client.get(f"/v23.0/{media_id}", headers=AUTH)).json()["url"]
        anonymous = await client.get(url)
        wrong = await client.get(url, headers={"Authorization": "Bearer wrong"})

    assert anonymous.status_code == 401
    assert error_of(anonymous)["code"] == 104
    assert wrong.status_code == 401
    assert error_of(wrong)["code"] == 190


async def test_deleting_media_answers_success_and_forgets_it() -> None:
    async with emulator() as client:
        media_id = await upload_id(client)
        deleted = await client.delete(f"/v23.0/{media_id}", headers=AUTH)
        again = await client.get(f"/v23.0/{media_id}", headers=AUTH)
        twice = await client.delete(f"/v23.0/{media_id}", headers=AUTH)

    assert deleted.status_code == 200
    assert deleted.json() == {"success": True}
    assert again.status_code == 400
    assert error_of(again)["code"] == 100
    assert error_of(twice)["message"].startswith("Unsupported delete request")


async def test_an_unknown_media_id_is_error_100() -> None:
    async with emulator() as client:
        response = await client.get("/v23.0/999999", headers=AUTH)

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 100
    assert error["type"] == "GraphMethodException"
    assert error["message"].startswith("Unsupported get request. Object with ID '999999'")


async def test_media_of_another_phone_number_is_not_found() -> None:
    async with emulator() as client:
        media_id = await upload_id(client)
        mine = await client.get(
            f"/v23.0/{media_id}", params={"phone_number_id": PHONE_NUMBER_ID}, headers=AUTH
        )
        other = await client.get(
            f"/v23.0/{media_id}", params={"phone_number_id": "42"}, headers=AUTH
        )

    assert mine.status_code == 200
    assert other.status_code == 400


async def test_it_rejects_an_unsupported_mime_type() -> None:
    async with emulator() as client:
        response = await upload(client, b"GIF89a" + bytes(20), "image/gif", "a.gif")

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 100
    assert "Received file of type 'image/gif'" in error["error_data"]["details"]


async def test_it_rejects_an_image_over_5_mb_with_131053() -> None:
    async with emulator() as client:
        exactly = await upload(client, bytes(5 * MB), "image/jpeg", "gross.jpg")
        over = await upload(client, bytes(5 * MB + 1), "image/jpeg", "zu-gross.jpg")

    assert exactly.status_code == 200
    assert over.status_code == 400
    error = error_of(over)
    assert error["code"] == 131053
    assert error["message"] == "(#131053) Media upload error"


async def test_it_rejects_a_sticker_over_500_kb() -> None:
    async with emulator() as client:
        response = await upload(client, bytes(500 * 1024 + 1), "image/webp", "s.webp")

    assert error_of(response)["code"] == 131053


async def test_it_stops_reading_a_request_larger_than_any_allowed_file() -> None:
    async with emulator() as client:
        response = await client.post(
            MEDIA_PATH,
            content=b"x" * 1024,
            headers={
                **AUTH,
                "Content-Type": "multipart/form-data; boundary=b",
                "Content-Length": str(200 * MB),
            },
        )

    assert response.status_code == 400
    assert error_of(response)["code"] == 131053


async def test_it_rejects_an_empty_file() -> None:
    async with emulator() as client:
        response = await upload(client, b"", "image/png", "leer.png")

    assert error_of(response)["code"] == 131053


@pytest.mark.parametrize(
    ("field", "code"), [("file", 131008), ("type", 131008), ("messaging_product", 131008)]
)
async def test_each_form_field_is_required(field: str, code: int) -> None:
    files = {
        "file": ("a.png", PNG, "image/png"),
        "type": (None, "image/png"),
        "messaging_product": (None, "whatsapp"),
    }
    del files[field]
    async with emulator() as client:
        response = await client.post(MEDIA_PATH, files=files, headers=AUTH)

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == code
    assert field in error["error_data"]["details"]


async def test_it_rejects_another_messaging_product() -> None:
    async with emulator() as client:
        response = await client.post(
            MEDIA_PATH,
            files={
                "file": ("a.png", PNG, "image/png"),
                "type": (None, "image/png"),
                "messaging_product": (None, "telegram"),
            },
            headers=AUTH,
        )

    assert error_of(response)["code"] == 100


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b'{"file": "abc"}'),
        ("multipart/form-data", b"--x\r\n\r\n--x--"),
        ("multipart/form-data; boundary=x", b"no parts at all"),
        (
            "multipart/form-data; boundary=x",
            b"--x\r\nContent-Disposition: form-data\r\n\r\nv\r\n--x--",
        ),
        ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; name="a"'),
        (
            "multipart/form-data; boundary=x",
            b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nv',
        ),
    ],
)
async def test_it_answers_a_malformed_form_with_error_100(content_type: str, body: bytes) -> None:
    async with emulator() as client:
        response = await client.post(
            MEDIA_PATH, content=body, headers={**AUTH, "Content-Type": content_type}
        )

    assert response.status_code == 400
    assert error_of(response)["code"] == 100


async def test_uploading_to_another_phone_number_is_error_100() -> None:
    async with emulator() as client:
        response = await client.post(
            "/v23.0/42/media",
            files={"file": ("a.png", PNG, "image/png"), "type": (None, "image/png")},
            headers=AUTH,
        )

    assert response.status_code == 400
    assert error_of(response)["message"].startswith("Unsupported post request")


async def test_the_oldest_media_makes_room_when_the_storage_limit_is_reached() -> None:
    async with emulator(media_storage_limit=3000) as client:
        first = await upload_id(client, bytes(1200), "image/png", "1.png")
        second = await upload_id(client, bytes(1200), "image/png", "2.png")
        third = await upload_id(client, bytes(1200), "image/png", "3.png")
        too_big = await upload(client, bytes(3001), "image/png", "4.png")
        found = [
            (await client.get(f"/v23.0/{media_id}", headers=AUTH)).status_code
            for media_id in (first, second, third)
        ]

    assert found == [400, 200, 200]
    assert error_of(too_big)["code"] == 131053


def test_the_storage_limit_is_read_from_the_environment() -> None:
    environ = {
        "WHATSAPP_ACCESS_TOKEN": "t",
        "WHATSAPP_APP_SECRET": "s",
        "WHATSAPP_PHONE_NUMBER_ID": "1",
        "WHATSAPP_BUSINESS_ACCOUNT_ID": "2",
        "WHATSAPP_VERIFY_TOKEN": "v",
        "EMULATOR_MEDIA_STORAGE_LIMIT": "1048576",
    }

    assert EmulatorConfig.from_env(environ).media_storage_limit == 1048576
    with pytest.raises(ValueError, match="media_storage_limit"):
        make_config(media_storage_limit=0)
