"""Identifiers that look like Meta's: message ids (wamid) and trace ids."""

from __future__ import annotations

import base64
import secrets


def new_wamid(wa_id: str) -> str:
    """A unique WhatsApp message id.

    Real wamids are base64 over a binary record that contains the user's number; receivers
    must treat them as opaque, so random bytes after the number are faithful enough.
    """
    number = wa_id.encode("ascii")
    raw = b"\x1c\x18" + bytes([len(number)]) + number + b"\x15\x02\x00\x12\x18"
    raw += secrets.token_bytes(12)
    return "wamid." + base64.b64encode(raw).decode("ascii")


def new_fbtrace_id() -> str:
    """A trace id as Graph API puts in every error body: 23 URL-safe characters."""
    return secrets.token_urlsafe(17)
