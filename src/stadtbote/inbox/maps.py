"""Where a place lies in the city, drawn on the server: the staff pages may load nothing from
other sites (the content security policy forbids it, and a tile server would learn which
places the city looks at). A pin in a box of the city's bounds (settings.CITY_BOUNDS) tells
"north-east, near the edge" at a glance; the link to OpenStreetMap shows the street. The
bounds are the ones the chat checks pins against (inbox.geo)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from stadtbote.inbox import geo

WIDTH = 240  # of the drawing, in SVG units; its height follows the city's shape
MAX_HEIGHT = 360


@dataclass(frozen=True)
class Pin:
    """The drawing: a box `width` by `height` with the pin at (`x`, `y`)."""

    width: int
    height: int
    x: float
    y: float


def usable(latitude: float | None, longitude: float | None) -> bool:
    return latitude is not None and longitude is not None and geo.is_place(latitude, longitude)


def pin(latitude: float | None, longitude: float | None) -> Pin | None:
    """The pin in the city's box, or None without bounds or for a place outside them."""
    bounds = geo.bounds()  # checked when the app starts: valid here, or None
    if bounds is None or not usable(latitude, longitude):
        return None
    assert latitude is not None and longitude is not None
    if not bounds.contains(latitude, longitude):
        return None
    # A degree of longitude is shorter than one of latitude away from the equator: scaled by
    # the cosine of the middle latitude, the box has the city's real proportions.
    middle = math.radians((bounds.south + bounds.north) / 2)
    span_x = (bounds.east - bounds.west) * math.cos(middle)
    span_y = bounds.north - bounds.south
    height = max(60, min(MAX_HEIGHT, round(WIDTH * span_y / span_x)))
    x = (longitude - bounds.west) / (bounds.east - bounds.west) * WIDTH
    y = (bounds.north - latitude) / span_y * height
    return Pin(WIDTH, height, round(x, 1), round(y, 1))


def openstreetmap_url(latitude: float, longitude: float) -> str:
    lat, lon = f"{latitude:.6f}", f"{longitude:.6f}"
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=18/{lat}/{lon}"
