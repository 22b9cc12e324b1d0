"""Where a reported defect is: inside the city's area or not.

The area is a box, `settings.CITY_BOUNDS` = "south,west,north,east" in degrees (WGS 84, as a
WhatsApp location pin). A box is coarse — a corner of the neighbouring town may fall inside —
but it needs no map data, and staff see every pin anyway; what it must do is turn away the
pin dropped in the wrong city. Empty: every place is taken. A box across the antimeridian
(west > east) is refused: no German city needs one, and a swapped pair is the likelier typo.

A malformed value fails loudly when Django starts (`InboxConfig.ready` calls `bounds()`),
not when the first citizen sends a pin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True, slots=True)
class Box:
    south: float
    west: float
    north: float
    east: float

    def contains(self, latitude: float, longitude: float) -> bool:
        return self.south <= latitude <= self.north and self.west <= longitude <= self.east


def bounds() -> Box | None:
    """The city's box, or None when any place is accepted. Raises ImproperlyConfigured."""
    return _parse(str(settings.CITY_BOUNDS or ""))


@lru_cache(maxsize=8)
def _parse(raw: str) -> Box | None:
    if not raw.strip():
        return None
    problem = f"STADTBOTE_CITY_BOUNDS must be 'south,west,north,east' in degrees, got {raw!r}"
    parts = raw.split(",")
    if len(parts) != 4:
        raise ImproperlyConfigured(problem)
    try:
        south, west, north, east = (float(p) for p in parts)
    except ValueError:
        raise ImproperlyConfigured(problem) from None
    if not all(math.isfinite(v) for v in (south, west, north, east)):
        raise ImproperlyConfigured(problem)
    if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
        raise ImproperlyConfigured(
            f"{problem}: south must be below north and west left of east, within ±90/±180"
        )
    return Box(south, west, north, east)


def is_place(latitude: float, longitude: float) -> bool:
    """A point on Earth at all (a forged webhook may carry NaN or 1000)."""
    return (
        math.isfinite(latitude)
        and math.isfinite(longitude)
        and -90 <= latitude <= 90
        and -180 <= longitude <= 180
    )


def in_city(latitude: float, longitude: float) -> bool:
    box = bounds()
    return is_place(latitude, longitude) and (box is None or box.contains(latitude, longitude))
