"""The pin in the city's box (inbox.geo's bounds, checked at start): where it lands, and that
a place outside the city or a broken one gives no drawing rather than an error."""

from __future__ import annotations

import math

import pytest
from django.test import override_settings

from stadtbote.inbox import maps

MARBURG = "50.78,8.72,50.84,8.81"


@override_settings(CITY_BOUNDS=MARBURG)
def test_the_pin_lands_where_the_place_is():
    north_west = maps.pin(50.84, 8.72)
    south_east = maps.pin(50.78, 8.81)
    middle = maps.pin(50.81, 8.765)
    assert north_west is not None and south_east is not None and middle is not None
    assert (north_west.x, north_west.y) == (0, 0)
    assert (south_east.x, south_east.y) == (south_east.width, south_east.height)
    assert math.isclose(middle.x, middle.width / 2, abs_tol=0.1)
    assert math.isclose(middle.y, middle.height / 2, abs_tol=0.1)
    # A degree east is shorter than a degree north at this latitude: 0.09° east is about as
    # long as 0.057° north, so the box is a little taller than wide.
    expected = 0.06 / (0.09 * math.cos(math.radians(50.81)))
    assert middle.width == maps.WIDTH
    assert math.isclose(middle.height / middle.width, expected, rel_tol=0.01)


@override_settings(CITY_BOUNDS=MARBURG)
@pytest.mark.parametrize(
    ("lat", "lon"),
    [(48.1, 11.5), (None, 8.7), (50.8, None), (float("nan"), 8.7), (91.0, 8.7)],
)
def test_no_pin_outside_the_city_or_for_a_broken_place(lat, lon):
    assert maps.pin(lat, lon) is None


@override_settings(CITY_BOUNDS="")
def test_no_pin_without_bounds():
    assert maps.pin(50.81, 8.765) is None


def test_the_openstreetmap_link():
    assert maps.openstreetmap_url(50.8098, 8.7707) == (
        "https://www.openstreetmap.org/?mlat=50.809800&mlon=8.770700#map=18/50.809800/8.770700"
    )
