"""Numbers that arrive as text (a choice id from a phone, a query parameter)."""

from __future__ import annotations

MAX_DIGITS = 18  # fits a 64-bit database id


def parse_id(value: str) -> int | None:
    """The non-negative integer written in ASCII digits, or None. `str.isdigit()` alone is not
    enough: it also takes "²" and other digits `int()` refuses, and any length."""
    if value.isascii() and value.isdigit() and len(value) <= MAX_DIGITS:
        return int(value)
    return None
