"""Location messages: a pin with optional name and address."""

from __future__ import annotations

from typing import Any

import pytest

from .content_support import chat, message, post
from .support import emulator, error_of

pytestmark = pytest.mark.anyio

RATHAUS = {
    "latitude": 52.5186,
    "longitude": 13.4081,
    "name": "Rotes Rathaus",
    "address": "Rathausstraße 15",
}


async def test_it_sends_a_pin_with_name_and_address() -> None:
    async with emulator() as client:
        response = await post(client, message("location", RATHAUS))
        [sent] = await chat(client)

    assert response.status_code == 200
    assert sent["type"] == "location"
    assert sent["location"] == RATHAUS


async def test_name_and_address_are_optional() -> None:
    async with emulator() as client:
        response = await post(client, message("location", {"latitude": 0, "longitude": 0}))
        [sent] = await chat(client)

    assert response.status_code == 200
    assert sent["location"] == {"latitude": 0.0, "longitude": 0.0}


async def test_coordinates_given_as_strings_are_read_as_numbers() -> None:
    # Meta's OpenAPI types latitude and longitude as strings; its examples use numbers.
    async with emulator() as client:
        response = await post(
            client, message("location", {"latitude": "-33.8688", "longitude": "151.2093"})
        )
        [sent] = await chat(client)

    assert response.status_code == 200
    assert sent["location"] == {"latitude": -33.8688, "longitude": 151.2093}


@pytest.mark.parametrize(
    ("latitude", "longitude"), [(90, 180), (-90, -180), (89.999999, -179.999999)]
)
async def test_it_accepts_the_edges_of_the_globe(latitude: float, longitude: float) -> None:
    async with emulator() as client:
        response = await post(
            client, message("location", {"latitude": latitude, "longitude": longitude})
        )

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("location", "field"),
    [
        ({"latitude": 90.0001, "longitude": 0}, "latitude"),
        ({"latitude": -91, "longitude": 0}, "latitude"),
        ({"latitude": 0, "longitude": 180.5}, "longitude"),
        ({"latitude": 0, "longitude": -181}, "longitude"),
    ],
)
async def test_it_rejects_coordinates_off_the_globe(location: dict[str, Any], field: str) -> None:
    async with emulator() as client:
        response = await post(client, message("location", location))

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 131009
    assert f"location['{field}']" in error["error_data"]["details"]


@pytest.mark.parametrize("value", [True, None, "north", "NaN", "inf", [1], {"deg": 1}])
async def test_it_rejects_a_coordinate_that_is_not_a_number(value: Any) -> None:
    async with emulator() as client:
        response = await post(client, message("location", {"latitude": value, "longitude": 1}))

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 100
    assert "location['latitude']" in error["error_data"]["details"]


@pytest.mark.parametrize("missing", ["latitude", "longitude"])
async def test_both_coordinates_are_required(missing: str) -> None:
    location = {"latitude": 1, "longitude": 2}
    del location[missing]
    async with emulator() as client:
        response = await post(client, message("location", location))

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 131008
    assert f"location['{missing}']" in error["error_data"]["details"]


async def test_it_rejects_an_empty_name() -> None:
    async with emulator() as client:
        response = await post(
            client, message("location", {"latitude": 1, "longitude": 2, "name": ""})
        )

    assert response.status_code == 400
    assert "location['name']" in error_of(response)["error_data"]["details"]
