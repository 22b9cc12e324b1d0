"""Phone numbers as WhatsApp identifies users: digits only, with country code (its wa_id)."""

from __future__ import annotations

import re

import phonenumbers

_NON_DIGITS = re.compile(r"\D")


class InvalidPhoneNumber(ValueError):
    pass


def normalize(raw: str) -> str:
    """'+49 170 1234567' -> '491701234567'. Raises InvalidPhoneNumber for what cannot be one."""
    digits = _NON_DIGITS.sub("", raw or "")
    if raw.strip().startswith("00"):
        digits = digits[2:]
    # E.164 allows at most 15 digits; below 8 no country has subscriber numbers.
    if not 8 <= len(digits) <= 15:
        raise InvalidPhoneNumber("not a phone number in international form")
    return digits


def masked(wa_id: str) -> str:
    """For people, never for logs: '491701234567' -> '+49 ••• ••• 67'."""
    return f"+{wa_id[:2]} ••• ••• {wa_id[-2:]}"


def country(wa_id: str, default: str = "DE") -> str:
    """The ISO country of a number ('491701234567' -> 'DE'): Meta prices per country."""
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse("+" + wa_id))
    except phonenumbers.NumberParseException:
        return default
    return region if region and region != "ZZ" else default
